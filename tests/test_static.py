"""Production serves hashed static files; every file the stylesheet points at must exist."""

from django.core.management import call_command


def test_collectstatic_with_hashed_names_finds_every_referenced_file(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }

    call_command("collectstatic", "--noinput", verbosity=0)

    assert (tmp_path / "staticfiles.json").exists()
    assert (tmp_path / "css" / "mash.css").exists()
    assert (tmp_path / "govuk" / "govuk-frontend.min.js").exists()
    assert (tmp_path / "js" / "app.js").exists()
