from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orsec.accounts"
    label = "accounts"
    verbose_name = "Comptes"
