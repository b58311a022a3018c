"""The follow-up page (design.md §3.9, clinical.md §h): form, presenter, views."""
