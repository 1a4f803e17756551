from django.urls import path

from services import views

app_name = "services"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("departments/", views.departments, name="departments"),
    path("departments/<str:uscc>/", views.department, name="department"),
    path("themes/", views.themes, name="themes"),
    path("themes/<slug:slug>/", views.theme, name="theme"),
    path("power-list/", views.power_list, name="power-list"),
    path("<str:code>/", views.guide, name="guide"),
]
