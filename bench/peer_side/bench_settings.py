"""Benchmark settings for DjangoCRM 4a0caf5: SQLite at $PEER_DB, DEBUG off, no mail, no background threads.

bench/peer.py puts this folder and the peer's checkout on the path and sets DJANGO_SETTINGS_MODULE=bench_settings;
nothing in the checkout is changed.
"""
import os

from webcrm.settings import *  # NOQA

DEBUG = False
ALLOWED_HOSTS = ['*', 'testserver']

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': os.environ.get('PEER_DB', str(BASE_DIR / 'peer_bench.sqlite3')),  # NOQA: F405
    }
}

# Mail: never leave the process.
EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'
ADMINS = []
MANAGERS = []
MAILING = False             # massmail loop would poll the DB every 30 s
LOAD_EXCHANGE_RATE = False
GEOIP = False

# The peer starts daemon threads in AppConfig.ready() (IMAP import, reminder sender that
# scans due reminders every 5 min and writes messages when DEBUG is off, massmail sender,
# monthly analytics snapshot). They are background work, not request work, so for timing we
# swap in app configs that build the same objects but do not start the threads.
_SWAP = {
    'common.apps.CommonConfig': 'bench_apps.BenchCommonConfig',
    'crm.apps.CrmConfig': 'bench_apps.BenchCrmConfig',
    'massmail.apps.MassmailConfig': 'bench_apps.BenchMassmailConfig',
    'analytics.apps.AnalyticsConfig': 'bench_apps.BenchAnalyticsConfig',
}
INSTALLED_APPS = [_SWAP.get(a, a) for a in INSTALLED_APPS]  # NOQA: F405

# Plain password hashing is not used for requests (force_login), keep defaults.
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'null': {'class': 'logging.NullHandler'}},
    'loggers': {'django.request': {'handlers': ['null'], 'propagate': False}},
}
