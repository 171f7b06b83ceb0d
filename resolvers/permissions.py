"""Role checks declared on fields (metadata a compiler can read), refused as FORBIDDEN.

admin: everything, including lookup lists; member: read and write CRM data; viewer: read only.
"""

from __future__ import annotations

from strawberry.permission import BasePermission
from strawberry.types import Info

from app.errors import Forbidden
from resolvers.context import Context


class _RolePermission(BasePermission):
    message = "You are not allowed to do this."

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message)


class CanRead(_RolePermission):
    message = "Your roles do not allow reading CRM data."

    def has_permission(self, source: object, info: Info[Context, None], **kwargs: object) -> bool:
        return info.context.principal.can_read


class CanWrite(_RolePermission):
    message = "Your roles do not allow changing CRM data (viewer is read-only)."

    def has_permission(self, source: object, info: Info[Context, None], **kwargs: object) -> bool:
        return info.context.principal.can_write


class IsAdmin(_RolePermission):
    message = "Only an admin may do this."

    def has_permission(self, source: object, info: Info[Context, None], **kwargs: object) -> bool:
        return info.context.principal.is_admin
