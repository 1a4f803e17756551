"""Reads about accounts that other apps may use."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from accounts.models import StaffMembership, User


def staff_departments(user: AbstractBaseUser | AnonymousUser) -> list[int]:
    """The ids of the departments this user works for, in any role, smallest first."""
    if not user.is_authenticated:
        return []
    return sorted(set(StaffMembership.objects.filter(user_id=user.pk).values_list("department_id", flat=True)))


def is_staff_member(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Platform staff (is_staff) or a member of a department: people who must log in with MFA."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False):
        return True
    return StaffMembership.objects.filter(user_id=user.pk).exists()


def has_totp(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user has an activated TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def user_for_owner(user: AbstractBaseUser | AnonymousUser) -> User:
    """The logged-in user's own row, fresh from the database."""
    if not user.is_authenticated or user.pk is None:
        raise User.DoesNotExist
    return User.objects.get(pk=user.pk)
