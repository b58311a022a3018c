"""EHR integration (design.md §3.8, §3.11): everything that speaks FHIR, CDS Hooks or SMART.

Owns the CDS Hooks services (``cds_hooks``: ``patient-view`` for the criteria; ``orders``:
``order-select``/``order-sign`` for IVIG, plasma exchange and steroids in CIDP), the FHIR
reads with paging, bounds and deadlines (``fhir_read``, ``fhir_map``, ``follow_up_read``),
the SMART App Launch (``smart``), JWT verification with replay refusal (``jwt_auth``), the
registered clients (``clients``, managed in the admin), the call audit that never holds
patient data (``audit``, ``audit_rows``), the deploy checks (``checks``) and the
terminology content it reads (``models``: the LOINC mapping and the trigger codes).
Imports content and the engine; never the web or API rooms.
"""
