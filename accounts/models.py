from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """One account for every department (统一认证).

    Custom from the first migration so that real-name levels, identity
    documents and phone numbers can be added without swapping the model.
    """

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"
