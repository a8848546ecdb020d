"""Who is who: jurisdictions and accounts (store.py), the per-process account cache
(cache.py), authentication and per-village authorisation (access.py), the device registry
(devices.py) and provisioning of databases and accounts from files (provisioning.py)."""
