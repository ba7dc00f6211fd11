"""Pages of push targets under Settings: the list with each target's last result, adding one
(the service first, then only its fields), editing, deleting and 'send now'. Everything here
is for people who may change things: a target holds API keys."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fermentrack.push.services import MIN_INTERVAL_S, Service
from fermentrack.web.brewery.access import change_required
from fermentrack.web.devices.cards import duration_text, interval_text
from fermentrack.web.push.forms import LIMIT_REASONS, PushTargetForm
from fermentrack.web.push.models import PushTarget, send_now_time

SERVICE_BLURBS = {
    Service.BREWFATHER: "a gravity sensor or a controller, to a Custom Stream",
    Service.BREWERS_FRIEND: "a gravity sensor, to a brew session's stream",
    Service.GRAINFATHER: "a gravity sensor, as an iSpindel would",
    Service.THINGSPEAK: "a controller's temperatures, to a channel",
    Service.GENERIC: "controllers and gravity sensors as JSON, to any address",
}


def _service(value: str) -> Service:
    try:
        return Service(value)
    except ValueError:
        raise Http404(f"no push service {value!r}") from None


@change_required
def target_list(request):
    now = timezone.now()
    rows = []
    for target in PushTarget.objects.prefetch_related("chosen_controllers", "chosen_sensors"):
        due = target.next_due_at
        if not target.active:
            next_text = "switched off"
        elif due is None or due <= now:
            next_text = "due now"
        else:
            next_text = f"in {duration_text((due - now).total_seconds())}"
        rows.append(
            {
                "target": target,
                "interval": interval_text(target.interval_s),
                "next": next_text,
                "attempt_ago": duration_text((now - target.last_attempt_at).total_seconds())
                if target.last_attempt_at
                else None,
                "success_ago": duration_text((now - target.last_success_at).total_seconds())
                if target.last_success_at
                else None,
            }
        )
    return render(request, "push/target_list.html", {"rows": rows})


@change_required
def target_add(request):
    services = [
        {
            "service": service,
            "blurb": SERVICE_BLURBS[service],
            "limit": interval_text(MIN_INTERVAL_S[service]),
        }
        for service in SERVICE_BLURBS
    ]
    return render(request, "push/choose_service.html", {"services": services})


@change_required
def target_add_service(request, service: str):
    service = _service(service)
    form = PushTargetForm(request.POST or None, service=service)
    if request.method == "POST" and form.is_valid():
        target = form.save()
        messages.success(request, f"Added {target.name}: it is sent within a few seconds.")
        return redirect("push_list")
    return _form_page(request, form, service, None)


@change_required
def target_edit(request, pk: int):
    target = get_object_or_404(PushTarget, pk=pk)
    form = PushTargetForm(request.POST or None, instance=target, service=target.service_enum)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            form.save()
            messages.success(request, f"Saved {target.name}.")
        else:
            messages.info(request, "Nothing was changed.")
        return redirect("push_list")
    return _form_page(request, form, target.service_enum, target)


def _form_page(request, form, service: Service, target: PushTarget | None):
    context = {
        "form": form,
        "service": service,
        "target": target,
        "limit": interval_text(MIN_INTERVAL_S[service]),
        "limit_reason": LIMIT_REASONS[service],
    }
    return render(request, "push/target_form.html", context)


@change_required
def target_delete(request, pk: int):
    target = get_object_or_404(PushTarget, pk=pk)
    if request.method == "POST":
        target.delete()
        messages.success(request, f"Deleted the push target {target.name}.")
        return redirect("push_list")
    return render(request, "push/target_confirm_delete.html", {"target": target})


@change_required
@require_POST
def target_send_now(request, pk: int):
    target = get_object_or_404(PushTarget, pk=pk)
    if not target.active:
        messages.error(request, f"{target.name} is switched off; switch it on to send it.")
        return redirect("push_list")
    when = send_now_time(target)
    PushTarget.objects.filter(pk=pk).update(next_due_at=when)
    wait = (when - timezone.now()).total_seconds()
    if wait > 1:
        messages.info(
            request,
            f"{target.name} is sent in {duration_text(wait)}: "
            f"{LIMIT_REASONS[target.service_enum]}.",
        )
    else:
        messages.success(request, f"{target.name} is sent within a few seconds.")
    return redirect("push_list")
