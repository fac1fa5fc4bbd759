import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from instances import crypto
from instances.forms import CredentialForm
from instances.models import Credential

pytestmark = pytest.mark.django_db


def test_password_is_encrypted_at_rest_and_decrypts():
    c = Credential(name="c", username="u")
    c.set_password("s3cret-pw")
    c.save()
    stored = Credential.objects.values_list("password", flat=True).get(pk=c.pk)
    assert "s3cret-pw" not in stored
    assert Credential.objects.get(pk=c.pk).get_password() == "s3cret-pw"
    assert "s3cret-pw" not in str(c) and "s3cret-pw" not in repr(c)


def test_any_configured_key_decrypts_and_rotation_moves_to_the_newest():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(CREDENTIAL_KEYS=[old]):
        c = Credential(name="c", username="u")
        c.set_password("pw")
        c.save()
    with override_settings(CREDENTIAL_KEYS=[new, old]):
        assert Credential.objects.get(pk=c.pk).get_password() == "pw"
        call_command("rotate_credential_keys", stdout=open("/dev/null", "w"))
    with override_settings(CREDENTIAL_KEYS=[new]):
        assert Credential.objects.get(pk=c.pk).get_password() == "pw"


def test_unknown_key_is_a_clear_error_and_rotation_changes_nothing():
    with override_settings(CREDENTIAL_KEYS=[Fernet.generate_key().decode()]):
        c = Credential(name="c", username="u")
        c.set_password("pw")
        c.save()
    before = Credential.objects.values_list("password", flat=True).get(pk=c.pk)
    with override_settings(CREDENTIAL_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(crypto.CredentialDecryptError):
            Credential.objects.get(pk=c.pk).get_password()
        with pytest.raises(CommandError, match="cannot be decrypted"):
            call_command("rotate_credential_keys")
    assert Credential.objects.values_list("password", flat=True).get(pk=c.pk) == before


def test_form_never_renders_the_password_and_blank_keeps_it():
    c = Credential(name="c", username="u")
    c.set_password("keep-me")
    c.save()
    form = CredentialForm(instance=c)
    html = form.as_p()
    assert "keep-me" not in html and c.password not in html
    form = CredentialForm({"name": "c", "username": "u2", "new_password": "", "description": ""}, instance=c)
    assert form.is_valid(), form.errors
    form.save()
    c.refresh_from_db()
    assert c.username == "u2" and c.get_password() == "keep-me"
    form = CredentialForm({"name": "c", "username": "u2", "new_password": "changed", "description": ""}, instance=c)
    assert form.is_valid()
    form.save()
    assert Credential.objects.get(pk=c.pk).get_password() == "changed"
