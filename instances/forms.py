from django import forms
from django.utils.translation import gettext_lazy as _

from . import binding
from .models import Credential, CredentialTarget, Instance, normalise_host


class CredentialForm(forms.ModelForm):
    """The password is write-only: never rendered back; left blank it keeps the stored one."""

    new_password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave blank to keep the current password."),
    )

    class Meta:
        model = Credential
        fields = ["name", "username", "new_password", "description"]

    def save(self, commit=True):
        credential = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            credential.set_password(self.cleaned_data["new_password"])
        if commit:
            credential.save()
        return credential


class InstanceAdminForm(forms.ModelForm):
    """The admin's instance form: only credential managers decide where a stored password goes.

    The admin sets `user` on the class it builds per request (see InstanceAdmin.get_form).
    """

    user = None

    class Meta:
        model = Instance
        # The admin narrows these to its fieldsets (and leaves `credential` out for non-managers).
        fields = [
            "name",
            "db_type",
            "host",
            "port",
            "credential",
            "is_active",
            "description",
            "options",
            "capacity_limit_bytes",
        ]

    def clean(self):
        cleaned = super().clean()
        written = {field: cleaned[field] for field in binding.TARGET_FIELDS if field in cleaned}
        before = self.instance if self.instance.pk is not None else None
        denial = binding.write_denial(self.user, before, written)
        if denial:
            raise forms.ValidationError(denial, code="permission")
        return cleaned


class CredentialTargetForm(forms.ModelForm):
    """One approval row on a credential's page; the host is kept in its compared spelling."""

    class Meta:
        model = CredentialTarget
        fields = ["db_type", "host", "port", "note"]

    def clean_host(self):
        return normalise_host(self.cleaned_data["host"])
