"""The written decisions of an application (受理通知书, 补正通知书, 决定书 …) as PDF, for the applicant and staff."""
