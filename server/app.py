"""The Flask app factory: nothing is created at import time."""
from __future__ import annotations

from flask import Flask
from flask.sessions import SessionInterface

from mobile_api import (alerts_api, alerts_stream, device_api, duty_api, health, households_api,
                        monitoring_api, openapi, pages, photo_upload_api, photos_api, public_api,
                        reports_api, review_api, session_api, sync_routes)
from mobile_api import app_pages, field_devices_api, security_headers
from mobile_api.context import EXTENSION_KEY
from mobile_api.errors import register_error_handlers
from server.bootstrap import Services, build_services, gateway_limits
from server.config import Settings


class NoCookieSession(SessionInterface):
    """No Flask cookie session: accounts sign in with tokens or passwords (sync/directory/), and
    Flask's own session built a signing serializer on every request (1.6 % of the web worker's
    time under the held-connections bench). Writing to `flask.session` raises."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        return None


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app for `settings` (default: from the environment)."""
    settings = settings or (services.settings if services else Settings.from_env())
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key,
                      MAX_CONTENT_LENGTH=gateway_limits(settings).max_request_bytes,
                      JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    app.session_interface = NoCookieSession()
    if settings.proxy_hops:  # the client's address for lockout, from N trusted proxies' X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]
    app.extensions[EXTENSION_KEY] = services or build_services(settings)
    register_error_handlers(app)
    security_headers.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(sync_routes.bp)
    app.register_blueprint(session_api.bp)
    app.register_blueprint(photos_api.bp)
    app.register_blueprint(photo_upload_api.bp)
    app.register_blueprint(device_api.bp)
    app.register_blueprint(public_api.bp)
    app.register_blueprint(alerts_stream.bp)
    app.register_blueprint(alerts_api.bp)
    app.register_blueprint(duty_api.bp)
    app.register_blueprint(review_api.bp)
    app.register_blueprint(households_api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(app_pages.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(reports_api.page_bp)
    app.register_blueprint(monitoring_api.bp)
    app.register_blueprint(field_devices_api.bp)
    app.register_blueprint(openapi.bp)
    return app
