from django.urls import path

from services import api

urlpatterns = [
    path("services/", api.ServiceList.as_view(), name="api-services"),
    path("services/<str:code>/", api.ServiceDetail.as_view(), name="api-service"),
    path("regions/", api.RegionList.as_view(), name="api-regions"),
    path("departments/", api.DepartmentList.as_view(), name="api-departments"),
    path("themes/", api.ThemeList.as_view(), name="api-themes"),
    path("power-list/", api.PowerList.as_view(), name="api-power-list"),
]
