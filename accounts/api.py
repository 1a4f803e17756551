"""The signed-in user over the API: who the app or single-page front end is acting for."""

from __future__ import annotations

from rest_framework import generics, permissions, serializers

from accounts.models import User


class MeSerializer(serializers.ModelSerializer[User]):
    """The account as the API shows it: the name and identity document masked, never the clear number."""

    masked_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["email", "real_name_level", "masked_name", "id_type", "id_number_masked"]
        read_only_fields = fields


class Me(generics.RetrieveAPIView[User]):
    """The signed-in user, by browser session or by the app's ``X-Session-Token``."""

    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # IsAuthenticated let only a signed-in user through
        return user
