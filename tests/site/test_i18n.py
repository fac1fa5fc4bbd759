"""The Simplified Chinese catalog: complete, compiled, and used by the admin when the browser asks for Chinese.

After `makemessages -l zh_Hans` adds new strings, test_catalog_is_complete lists the msgids still to translate,
and test_compiled_catalog_matches_po fails until `compilemessages -l zh_Hans` has been run again.
"""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')
# %(name)s style, %s/%d, %% and str.format fields; the translation must keep every one of them.
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%[sdrf%]|\{\w*\}")


def _unescape(text):
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def parse_po(path):
    """The .po file's active entries as dicts: msgid, msgid_plural, msgctxt, msgstr ({index: text}), flags."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        field = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#~"):  # obsolete entry, not compiled
                field = None
                break
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := _KEYWORD.match(line):
                keyword, index, text = match.groups()
                if keyword.startswith("msgstr"):
                    field = ("msgstr", int(index or 0))
                    entry["msgstr"][field[1]] = _unescape(text)
                else:
                    field = (keyword, None)
                    entry[keyword] = _unescape(text)
            elif line.startswith('"') and field:
                if field[0] == "msgstr":
                    entry["msgstr"][field[1]] += _unescape(line[1:-1])
                else:
                    entry[field[0]] += _unescape(line[1:-1])
        if field and entry["msgid"] is not None:
            entries.append(entry)
    return entries


def _label(entry):
    return repr(entry["msgid"]) + (f" (context {entry['msgctxt']!r})" if entry["msgctxt"] else "")


@pytest.fixture(autouse=True)
def _keep_active_language():
    """LocaleMiddleware activates the request's language on this thread; put the previous one back."""
    previous = translation.get_language()
    yield
    translation.activate(previous)


def test_key_strings_translate():
    with translation.override("zh-hans"):
        assert _("Sync capacity") == "同步容量"
        assert _("Test connection") == "测试连接"
        assert _("Capacity dashboard") == "容量看板"
        assert _("Sync capacity") != "Sync capacity"
        failed = _("%(name)s: collection failed [%(kind)s]: %(error)s")
        values = {"name": "ora1", "kind": "timeout", "error": "ORA-12170"}
        assert failed % values == "ora1：采集失败（timeout）：ORA-12170"
        for n in (1, 5):
            message = ngettext(
                "%(name)s: %(count)s database, %(size)s collected.",
                "%(name)s: %(count)s databases, %(size)s collected.",
                n,
            )
            assert (
                message % {"name": "pg1", "count": n, "size": "1.00 GiB"} == f"pg1：已采集 {n} 个数据库，共 1.00 GiB。"
            )
    with translation.override("en"):
        assert _("Sync capacity") == "Sync capacity"


@pytest.mark.django_db
def test_admin_index_in_chinese_for_a_chinese_browser(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "secret-password")
    client.force_login(admin)
    response = client.get("/admin/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    page = response.content.decode()
    assert '<html lang="zh-hans"' in page
    assert "数据库容量" in page  # site header
    assert "容量看板" in page  # the dashboard link in the app list
    assert "同步会话" in page  # an app name
    assert "Capacity dashboard" not in page


@pytest.mark.django_db
def test_admin_index_stays_english_without_a_chinese_browser(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "secret-password")
    client.force_login(admin)
    response = client.get("/admin/", headers={"accept-language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    assert "Capacity dashboard" in response.content.decode()


def test_catalog_header():
    header = next(e for e in parse_po(PO_FILE) if e["msgid"] == "" and e["msgctxt"] is None)["msgstr"][0]
    assert "Language: zh_Hans\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header


def test_catalog_is_complete():
    entries = [e for e in parse_po(PO_FILE) if e["msgid"]]
    assert len(entries) > 400
    untranslated = [_label(e) for e in entries if not e["msgstr"] or not all(e["msgstr"].values())]
    fuzzy = [_label(e) for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"{len(untranslated)} untranslated msgids:\n" + "\n".join(untranslated)
    assert not fuzzy, f"{len(fuzzy)} fuzzy msgids:\n" + "\n".join(fuzzy)
    two_forms = [_label(e) for e in entries if e["msgid_plural"] is not None and set(e["msgstr"]) != {0}]
    assert not two_forms, "plural entries need exactly msgstr[0] (nplurals=1):\n" + "\n".join(two_forms)


def test_translations_keep_placeholders():
    wrong = []
    for entry in parse_po(PO_FILE):
        if not entry["msgid"]:
            continue
        expected = sorted(_PLACEHOLDER.findall(entry["msgid_plural"] or entry["msgid"]))
        for text in entry["msgstr"].values():
            if text and sorted(_PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{_label(entry)} -> {text!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_compiled_catalog_matches_po():
    """django.mo is committed: it must hold exactly the .po's translations (run compilemessages after editing)."""
    with MO_FILE.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    stale = []
    for entry in parse_po(PO_FILE):
        if not entry["msgid"] or "fuzzy" in entry["flags"]:
            continue
        key = entry["msgid"] if entry["msgctxt"] is None else f"{entry['msgctxt']}\x04{entry['msgid']}"
        for index, text in entry["msgstr"].items():
            if not text:
                continue
            compiled = catalog.get((key, index)) if entry["msgid_plural"] is not None else catalog.get(key)
            if compiled != text:
                stale.append(_label(entry))
    assert not stale, "django.mo is out of date for:\n" + "\n".join(stale)


def test_one_english_word_two_meanings_has_two_translations():
    """ "Data" the failure kind and "Data" the size column are told apart by their context."""
    from django.utils.translation import pgettext

    from instances.choices import ErrorKind

    with translation.override("zh-hans"):
        assert str(ErrorKind.DATA.label) == "数据格式错误"
        assert pgettext("size column", "Data") == "数据"
        assert [str(k.label) for k in ErrorKind] == [
            "连接失败",
            "超时",
            "认证失败",
            "权限不足",
            "不支持",
            "数据格式错误",
        ]


@pytest.mark.django_db
def test_api_docs_title_follows_the_language(admin_client):
    english = admin_client.get("/api/schema/?format=json", headers={"accept-language": "en"}).json()
    assert english["info"]["title"] == "Database capacity platform API"
    chinese = admin_client.get("/api/schema/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 200
    text = chinese.content.decode()  # YAML: the lazy title must have become plain text
    assert "title: 数据库容量平台 API" in text
    assert "从 MySQL/MariaDB、PostgreSQL、SQL Server 和 Oracle 采集的数据库大小。" in text


@pytest.mark.django_db
def test_schedules_keep_their_stored_names_and_show_translated_titles(admin_client):
    from django_q.models import Schedule

    from capacity import schedules

    schedules.ensure_schedules()
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {schedules.COLLECTION, schedules.AGGREGATION, schedules.RETENTION, schedules.SWEEPER} <= names
    page = admin_client.get("/admin/django_q/schedule/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200
    html = page.content.decode()
    for title in ("每日定时采集", "周期聚合", "保留期清理与分区", "采集清理器"):
        assert title in html
    assert schedules.COLLECTION not in html


def test_no_half_width_punctuation_inside_chinese():
    """Colons, commas, semicolons, brackets and ! ? next to Chinese characters are full-width."""
    cjk = r"[\u4e00-\u9fff]"
    half = re.compile(rf"{cjk}[:;,!?()]|[:;,!?()]{cjk}|{cjk}\s\[|\]\s?{cjk}")
    wrong = []
    for entry in parse_po(PO_FILE):
        for text in entry["msgstr"].values():
            # placeholders and `code` spans are not Chinese text
            plain = re.sub(r"%\(\w+\)[sdrf]|`[^`]*`", "", text)
            if entry["msgid"] and half.search(plain) and not plain.startswith(("触发中", "已恢复")):
                wrong.append(f"{_label(entry)} -> {text!r}")
    assert not wrong, "half-width punctuation in Chinese text:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_instance_list_columns_carry_their_own_translated_headers(admin_client):
    """Each column of the instance list is headed by its own words (the size column is no "server")."""
    from instances.models import Instance

    instance = Instance.objects.create(name="pg1", db_type="postgresql", host="127.0.0.1")
    page = admin_client.get("/admin/instances/instance/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    headers = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<th scope="col" class="[^"]*column-[^"]*">(.*?)</th>', page.content.decode(), re.S)
    ]
    assert headers == ["名称", "服务器", "最新总大小", "数据库数", "7 天 / 30 天增长", "最近采集", "操作"]
    detail = admin_client.get(f"/admin/instances/instance/{instance.pk}/change/", headers={"accept-language": "zh"})
    html = detail.content.decode()
    for label in ("最近连接", "最近采集", "最近采集状态"):
        assert f">{label}：<" in html or f">{label}:<" in html, label


def test_chart_days_are_written_like_the_rest_of_the_page():
    from datetime import date

    from django.utils import formats

    from capacity.charts import period_label

    day = date(2026, 12, 2)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for period in ("day", "week"):
                assert period_label(day, period) == formats.date_format(day, "DATE_FORMAT")
    with translation.override("zh-hans"):
        assert period_label(day, "day") == "2026年12月2日"
