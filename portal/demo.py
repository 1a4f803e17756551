"""The demo accounts that ``seed_demo`` creates and ``make run`` prints.

Later capabilities give these people their real-name levels, enterprises and
department roles; the usernames and the password stay as they are here.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "zwfw-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    last_name: str
    first_name: str
    role: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("citizen", "王", "小明", "citizen 自然人"),
    DemoAccount("citizen2", "赵", "丽", "another citizen 自然人"),
    DemoAccount("agent", "李", "娜", "enterprise agent 法人经办人"),
    DemoAccount("clerk", "陈", "静", "clerk 窗口审批人员", is_staff=True),
    DemoAccount("clerk2", "孙", "浩", "clerk of another department 其他部门审批人员", is_staff=True),
    DemoAccount("supervisor", "刘", "伟", "department supervisor 部门负责人", is_staff=True),
    DemoAccount("admin", "周", "敏", "platform admin 平台管理员", is_staff=True, is_superuser=True),
)
