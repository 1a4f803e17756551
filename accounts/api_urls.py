from django.urls import path

from accounts import api

urlpatterns = [
    path("me/", api.Me.as_view(), name="api-me"),
    path("me/real-name/", api.RealName.as_view(), name="api-real-name"),
    path("me/real-name/face-check/", api.FaceCheckStart.as_view(), name="api-face-check"),
    path("enterprises/", api.Enterprises.as_view(), name="api-enterprises"),
    path("enterprises/<str:uscc>/agents/", api.EnterpriseAgents.as_view(), name="api-enterprise-agents"),
    path(
        "enterprises/<str:uscc>/agents/<int:authorisation_id>/revoke/",
        api.AgentRevoke.as_view(),
        name="api-enterprise-agent-revoke",
    ),
]
