from django.urls import path

from orsec.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("connexion/", views.login_view, name="login"),
    path("connexion/second-facteur/", views.second_factor_view, name="login_second_factor"),
    path("connexion/activer-second-facteur/", views.enrolment_view, name="login_enrolment"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("compte/securite/", views.security_view, name="security"),
    path("compte/mot-de-passe/", views.password_change_view, name="password_change"),
    path("compte/codes-de-secours/", views.recovery_codes_view, name="recovery_codes"),
    path("compte/deconnexion-partout/", views.logout_everywhere_view, name="logout_everywhere"),
    path("mot-de-passe/oubli/", views.ResetRequestView.as_view(), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", views.ResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/modifie/",
        views.ResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
