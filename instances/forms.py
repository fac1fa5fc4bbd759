from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Credential


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
