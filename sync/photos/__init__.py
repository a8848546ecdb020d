"""Photo evidence: the checks and derivatives of one photo (checks.py: a real image, its
size, EXIF facts, display and thumbnail, perceptual hash), the queue the gateway fills and the
worker drains (queue.py), feedback to the cadre (feedback.py) and photos uploaded through the
API (upload.py)."""
