"""EHR integration: LOINC mapping (content), CDS Hooks service and SMART App Launch (design.md §3.8)."""
