"""The picture of an enquiry, or of a family enquiry, as a page and as a PDF (sharing.picture).

Whoever may see the enquiry's page may see its picture; anyone else gets the same "not found"
as for a reference nobody has. Each look and each download is in the access log.
"""

from django.http import HttpResponse
from django.shortcuts import render

from agencies.decorators import role_required
from agencies.requests import SignedInRequest

from . import firewall, picture


@role_required(*firewall.WORKING_ROLES)
def enquiry_picture(request: SignedInRequest, reference: str) -> HttpResponse:
    """The page; `?format=pdf` downloads the same picture as an accessible PDF."""
    compiled = picture.compile_picture(reader=request.user, reference=reference)
    if request.GET.get("format") == "pdf":
        pdf = picture.render_pdf(compiled)
        picture.log_picture(compiled, pdf=True)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{picture.pdf_filename(compiled)}"'
        # Never kept by a browser or a proxy (mash.middleware.NoStoreWhenSignedIn says so too).
        response["Cache-Control"] = "no-store"
        return response
    picture.log_picture(compiled, pdf=False)
    return render(request, "sharing/picture.html", {"picture": compiled})
