#!/usr/bin/env bash
# Run the platform on the embedded defaults: SQLite and the django-q2 ORM broker.
# Creates what a fresh clone lacks (venv, .env with keys, migrations, a first admin login),
# then serves the web app on $HOST:$PORT (default 127.0.0.1:8000) next to the qcluster scheduler
# (scripts/serve.sh). Ctrl-C or SIGTERM stops both within seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=0 bash scripts/bootstrap.sh requirements.txt
PY=.venv/bin/python

if [ ! -f .env ]; then
  echo "run: writing .env with a new SECRET_KEY and CREDENTIAL_KEYS (keep this file: it decrypts stored passwords)"
  $PY - <<'PYEOF' > .env
import secrets
from cryptography.fernet import Fernet
print(f"SECRET_KEY={secrets.token_urlsafe(50)}")
print(f"CREDENTIAL_KEYS={Fernet.generate_key().decode()}")
PYEOF
  chmod 600 .env
fi

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0

ADMIN_USERNAME=${ADMIN_USERNAME:-admin}
if ! $PY manage.py shell -c "import sys; from django.contrib.auth import get_user_model; sys.exit(0 if get_user_model().objects.filter(username='$ADMIN_USERNAME').exists() else 1)" >/dev/null 2>&1; then
  generated=0
  if [ -z "${ADMIN_PASSWORD:-}" ]; then ADMIN_PASSWORD=$($PY -c "import secrets; print(secrets.token_urlsafe(12))"); generated=1; fi
  DJANGO_SUPERUSER_USERNAME="$ADMIN_USERNAME" DJANGO_SUPERUSER_PASSWORD="$ADMIN_PASSWORD" \
    DJANGO_SUPERUSER_EMAIL="${ADMIN_EMAIL:-admin@localhost}" $PY manage.py createsuperuser --noinput >/dev/null
  echo "run: created admin login '$ADMIN_USERNAME'"
  if [ "$generated" = 1 ]; then echo "run: its password is: $ADMIN_PASSWORD (shown once; change it in the admin)"; fi
fi
echo "run: lost the admin password? set a new one with: $PY manage.py changepassword $ADMIN_USERNAME"

# exec: the servers' supervisor takes this shell's pid, so `kill <pid of run.sh>` and Ctrl-C reach it.
exec bash scripts/serve.sh
