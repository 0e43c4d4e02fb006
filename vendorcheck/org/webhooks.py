"""Outgoing webhooks (/org/webhooks): endpoints, their secret, test events, the delivery log, replays."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import active_org, get_owned_or_404, requires
from vendorcheck.extensions import db
from vendorcheck.forms import ConfirmForm, options, page_arg
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from vendorcheck.org.blueprint import bp
from vendorcheck.org.forms import DeliveryFilterForm, SecretForm, WebhookEndpointForm
from vendorcheck.services import webhooks
from vendorcheck.services.errors import DomainError

PER_PAGE = 25


def status_labels() -> dict[str, str]:
    """Return each delivery status in words."""
    return {"pending": _("pending"), "succeeded": _("succeeded"), "failed": _("failed"),
            "retrying": _("retrying")}


def _endpoint_form(endpoint: WebhookEndpoint | None = None) -> WebhookEndpointForm:
    form = WebhookEndpointForm(obj=endpoint)
    form.events.choices = options((key, f"{key} — {label}") for key, label in webhooks.EVENTS.items())
    return form


@bp.get("/webhooks")
@requires("webhooks.manage")
def webhooks_list() -> str:
    """List the organisation's endpoints with their last delivery."""
    return render_template("org/webhooks.html", rows=webhooks.endpoints_of(active_org().id),
                           labels=status_labels(), form=ConfirmForm())


@bp.route("/webhooks/new", methods=["GET", "POST"])
@requires("webhooks.manage")
def new_webhook() -> Any:
    """Register an endpoint; its secret is shown once, on the page that answers."""
    form = _endpoint_form()
    if form.validate_on_submit():
        try:
            endpoint, secret = webhooks.create_endpoint(
                active_org(), url=form.url.data, description=form.description.data or "",
                events=form.events.data, by=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.url.errors = [*form.url.errors, exc.message]
        else:
            return render_template("org/webhook_secret.html", endpoint=endpoint, secret=secret,
                                   created=True)
    status = 422 if request.method == "POST" else 200
    return render_template("org/webhook_form.html", form=form, endpoint=None), status


@bp.route("/webhooks/<int:endpoint_id>/edit", methods=["GET", "POST"])
@requires("webhooks.manage")
def edit_webhook(endpoint_id: int) -> Any:
    """Change an endpoint's URL, description, events or state."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    form = _endpoint_form(endpoint)
    if form.validate_on_submit():
        try:
            webhooks.update_endpoint(endpoint, url=form.url.data,
                                     description=form.description.data or "",
                                     events=form.events.data, enabled=form.enabled.data,
                                     by=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.url.errors = [*form.url.errors, exc.message]
        else:
            flash(_("The endpoint was saved."), "success")
            return redirect(url_for("org.webhooks_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("org/webhook_form.html", form=form, endpoint=endpoint), status


@bp.post("/webhooks/<int:endpoint_id>/enabled")
@requires("webhooks.manage")
def toggle_webhook(endpoint_id: int) -> Any:
    """Disable an enabled endpoint, or enable a disabled one."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.set_enabled(endpoint, not endpoint.enabled, by=current_user)
    flash(_("The endpoint is enabled.") if endpoint.enabled else
          _("The endpoint is disabled: it receives nothing until it is enabled again."), "success")
    return redirect(url_for("org.webhooks_list"))


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["GET", "POST"])
@requires("webhooks.manage")
def delete_webhook(endpoint_id: int) -> Any:
    """Confirm, then delete an endpoint and its delivery log."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        webhooks.delete_endpoint(endpoint, by=current_user)
        flash(_("The endpoint was deleted."), "success")
        return redirect(url_for("org.webhooks_list"))
    return render_template("org/webhook_delete.html", endpoint=endpoint, form=form)


@bp.route("/webhooks/<int:endpoint_id>/secret", methods=["GET", "POST"])
@requires("webhooks.manage")
def webhook_secret(endpoint_id: int) -> Any:
    """Reveal the signing secret, or replace it with a new one (both audited)."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    form = SecretForm()
    if form.validate_on_submit():
        rotate = form.action.data == "rotate"
        try:
            secret = (webhooks.rotate_secret if rotate else webhooks.reveal_secret)(
                endpoint, by=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.action.errors = [*form.action.errors, exc.message]
            return render_template("org/webhook_secret.html", endpoint=endpoint, secret=None,
                                   form=form), exc.status
        return render_template("org/webhook_secret.html", endpoint=endpoint, secret=secret,
                               rotated=rotate, form=form)
    status = 422 if request.method == "POST" else 200
    return render_template("org/webhook_secret.html", endpoint=endpoint, secret=None,
                           form=form), status


@bp.post("/webhooks/<int:endpoint_id>/test")
@requires("webhooks.manage")
def test_webhook(endpoint_id: int) -> Any:
    """Send a test event to an endpoint, then show its delivery log."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.send_test(endpoint, by=current_user)
    flash(_("A test event was sent; its outcome is in the log below."), "success")
    return redirect(url_for("org.webhook_deliveries", endpoint_id=endpoint.id))


@bp.get("/webhooks/<int:endpoint_id>/deliveries")
@requires("webhooks.manage")
def webhook_deliveries(endpoint_id: int) -> str:
    """Show an endpoint's deliveries, newest first, filtered by status, paginated."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    labels = status_labels()
    form = DeliveryFilterForm(request.args, meta={"csrf": False})
    form.status.choices = options([("", _("All statuses")), *labels.items()])
    status = DeliveryStatus(form.status.data) if form.validate() and form.status.data else None
    page = db.paginate(webhooks.deliveries_query(endpoint, status), page=page_arg(),
                       per_page=PER_PAGE, error_out=False)
    args = {"status": status.value} if status else {}
    return render_template("org/webhook_deliveries.html", endpoint=endpoint, page=page,
                           form=form, args=args, labels=labels, confirm=ConfirmForm())


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@requires("webhooks.manage")
def replay_delivery(endpoint_id: int, delivery_id: int) -> Any:
    """Send a delivery's event again, as a new delivery."""
    endpoint = get_owned_or_404(WebhookEndpoint, endpoint_id)
    delivery = db.session.get(WebhookDelivery, delivery_id) if delivery_id < 2**63 else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.replay(delivery, by=current_user)
    flash(_("The event was sent again as a new delivery."), "success")
    return redirect(url_for("org.webhook_deliveries", endpoint_id=endpoint.id))
