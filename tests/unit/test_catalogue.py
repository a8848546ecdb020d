"""The one catalogue of people's text (models/catalogue/{zh-CN,en}.json): both languages complete
and alike, every message code the service names and every key the front end names present, and
no people's text left in the Python sources outside it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from models import case_event, household, mediation, visit
from models.alerts import OUTCOMES
from models.messages import CATALOGUE, catalogue, label, message, render

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "sync", "mobile_api", "server")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CODE = re.compile(r"[a-z][a-z0-9_]*\Z")


def _leaves(node: dict, prefix: str = "") -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            found |= _leaves(value, f"{prefix}{key}.")
        else:
            found[prefix + key] = value
    return found


# English's singular of a count ("1 phone"), read by frontend/src/i18n.js t() for {n} == 1 (Intl
# plural rules); Chinese has no plural form, so its catalogue has the base key alone
PLURAL_ONE = "_one"
ZH, EN = _leaves(catalogue("zh")), _leaves(catalogue("en"))
# key_one -> key: the singular forms English has, each beside its base key
ENGLISH_SINGULARS = {key: key.removesuffix(PLURAL_ONE) for key in EN
                     if key.endswith(PLURAL_ONE) and key.removesuffix(PLURAL_ONE) in ZH}


def _python_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_both_languages_have_the_same_keys_and_every_text_is_written():
    assert sorted(set(ZH) - set(EN)) == [], "in zh-CN.json only"
    assert sorted(set(EN) - set(ZH) - set(ENGLISH_SINGULARS)) == [], "in en.json only"
    empty = [key for key, value in {**ZH, **EN}.items() if not isinstance(value, str) or not value.strip()]
    assert empty == []


def test_the_english_catalogue_is_written_in_english():
    """Nothing left untranslated; the one Chinese entry is the switch to Chinese itself."""
    assert {key: value for key, value in EN.items() if CJK.search(str(value))} == {"app.language": "中文"}


def test_both_languages_take_the_same_placeholders():
    def names(text: object) -> set[str]:
        return set(PLACEHOLDER.findall(str(text)))
    assert {key: (names(ZH[key]), names(EN[key])) for key in ZH
            if key in EN and names(ZH[key]) != names(EN[key])} == {}


def test_chinese_text_uses_full_width_punctuation():
    """A colon ending a Chinese label, or a parenthesis beside Chinese text, is full width (：（）);
    an ASCII colon inside a format people type ("类型前缀:编号") stays."""
    ascii_after_cjk = re.compile(r"[\u4e00-\u9fff](:(\s|$|\{)|\()|\)[\u4e00-\u9fff]")
    assert {key: text for key, text in ZH.items() if ascii_after_cjk.search(str(text))} == {}


def test_a_singular_form_counts_what_its_base_key_counts():
    """Each `key_one` takes the placeholders of its base key, {n} among them (the count)."""
    assert ENGLISH_SINGULARS, "the workbench's counts have their English singular"
    assert {one: base for one, base in ENGLISH_SINGULARS.items()
            if set(PLACEHOLDER.findall(EN[one])) != set(PLACEHOLDER.findall(EN[base]))
            or "n" not in PLACEHOLDER.findall(EN[one])} == {}


def test_a_missing_parameter_leaves_the_text_as_written_rather_than_failing():
    assert render("reports.households_n", "zh", n=3) == "3户"
    assert render("reports.households_n", "zh") == ZH["reports.households_n"]
    assert message("division_code_level", "en", code="1") == EN["errors.division_code_level"]
    assert render("no.such.key", "en") == "no.such.key" and message("no_such_code") == "no_such_code"


# --- every message code the service names ------------------------------------------------------
# calls whose first argument (after an HTTP status) is a message code
CODE_CALLS = {"ApiError", "AccessDenied", "GatewayError", "PathRefused", "ReviewError", "UploadRefused",
              "error_response", "ValidationError", "HierarchyError", "ReportInputError", "MigrationError",
              "PhotoRejected", "BadStatus", "Coded", "message", "both"}


def _named_codes(tree: ast.AST) -> list[tuple[str, int]]:
    """(code, line) for every literal code in a code-taking call, an `error=`/`code=` keyword or a
    {"code": ...} detail; BadJson's problems are the codes `json_<problem>`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            args = list(node.args)
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, int):
                args = args[1:]
            candidates = [(args[0], "")] if name in CODE_CALLS and args else []
            candidates += [(args[0], "json_")] if name == "BadJson" and args else []
            candidates += [(k.value, "") for k in node.keywords if k.arg in ("error", "code")]
        elif isinstance(node, ast.Dict):
            candidates = [(value, "") for key, value in zip(node.keys, node.values)
                          if isinstance(key, ast.Constant) and key.value == "code"]
        else:
            continue
        found += [(prefix + c.value, node.lineno) for c, prefix in candidates
                  if isinstance(c, ast.Constant) and isinstance(c.value, str) and CODE.match(c.value)]
    return found


def test_every_code_the_service_names_has_a_message():
    named = {f"{path.relative_to(ROOT)}:{line}": code for path in _python_files()
             for code, line in _named_codes(ast.parse(path.read_text()))}
    assert len(named) > 100, "the scan finds the codes"
    assert {where: code for where, code in named.items() if code not in CATALOGUE} == {}


def test_every_progress_line_of_provisioning_has_its_words():
    """The CLI shows provisioning's progress labels as cli_progress_<label> (server/cli.py)."""
    tree = ast.parse((ROOT / "sync" / "directory" / "provisioning.py").read_text())
    labels = {arg.value for node in ast.walk(tree) if isinstance(node, ast.Call)
              and getattr(node.func, "id", None) in ("progress", "_bulk_write", "on_every_core")
              for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    assert len(labels) >= 4
    missing = [label for label in labels if f"cli_progress_{label.replace(' ', '_')}" not in CATALOGUE]
    assert sorted(missing) == []


def test_the_scan_would_see_a_missing_code():
    tree = ast.parse('raise ApiError(404, "no_such_message", [{"code": "nor_this"}])\nBadJson("x")')
    assert sorted(code for code, _ in _named_codes(tree)) == ["json_x", "no_such_message", "nor_this"]


@pytest.mark.parametrize("group, codes", [
    ("poverty_status", household.POVERTY_STATUSES), ("indicators", household.INDICATORS),
    ("relation", household.RELATIONS), ("schooling", household.SCHOOLING), ("health", household.HEALTH),
    ("work", household.WORK), ("verdict", visit.VERDICTS), ("reasons", visit.REASONS),
    ("photo_subject", visit.PHOTO_SUBJECTS), ("category", mediation.CATEGORIES),
    ("urgency", mediation.URGENCIES), ("kind", case_event.KINDS), ("role", case_event.ROLES),
    ("referred_to", case_event.REFERRAL_TARGETS), ("outcome", OUTCOMES)])
def test_every_code_of_a_schema_has_its_label_in_schema_order(group, codes):
    for lang in ("zh", "en"):
        assert tuple(catalogue(lang)["codes"][group]) == tuple(codes), (lang, group)
    assert label(group, codes[0], "zh") != label(group, codes[0], "en")


# --- every key the front end names --------------------------------------------------------------
FRONTEND = ROOT / "frontend" / "src"
# t('a.b'), t("a.b"), t(`a.${x}`); text(...) is field_names.js's t; label('group', 'code'); codes('group')
KEY_CALL = re.compile(r"""(?<![\w.$])(?:t|text)\(\s*(?:'([^'\n]*)'|"([^"\n]*)"|`([^`\n]*)`)""")
LABEL_CALL = re.compile(r"""(?<![\w.$])label\(\s*'(\w+)'(?:\s*,\s*'(\w+)')?""")
CODES_CALL = re.compile(r"""(?<![\w.$])codes(?:Of)?\(\s*'(\w+)'""")


def _frontend_keys(source: str) -> list[tuple[str, str]]:
    """(key, kind) named in a source: kind 'text' (a string), 'section' (a dynamic key's fixed
    prefix, which must be a section) or 'group' (a code group)."""
    found = []
    for match in KEY_CALL.finditer(source):
        quoted = match.group(1) or match.group(2)
        if quoted is not None:
            found.append((quoted, "text"))
        elif "${" in match.group(3):
            prefix = match.group(3).split("${", 1)[0]
            if prefix.endswith(".") and prefix.count(".") >= 1:
                found.append((prefix[:-1], "section"))
        else:
            found.append((match.group(3), "text"))
    for match in LABEL_CALL.finditer(source):
        found.append((f"codes.{match.group(1)}.{match.group(2)}", "text") if match.group(2)
                     else (f"codes.{match.group(1)}", "section"))
    found += [(f"codes.{match.group(1)}", "section") for match in CODES_CALL.finditer(source)]
    return found


def _sources():
    return [path for path in sorted(FRONTEND.rglob("*")) if path.suffix in (".vue", ".js")
            and "generated" not in path.parts and path.name != "i18n.js"]


def test_every_key_the_front_end_names_exists_in_both_languages():
    named = [(path.relative_to(ROOT), key, kind) for path in _sources()
             for key, kind in _frontend_keys(path.read_text())]
    assert len(named) > 300, "the scan finds the keys"
    missing = []
    for where, key, kind in named:
        for lang in ("zh", "en"):
            node: object = catalogue(lang)
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, str if kind == "text" else dict):
                missing.append(f"{where}: {key} ({lang})")
    assert missing == []


def test_the_front_end_scan_would_see_a_missing_key():
    source = "t('app.name'); t(`wb.outcomes.${x}`); label('urgency', 'urgent'); codes('work'); t('no.such')"
    assert _frontend_keys(source) == [("app.name", "text"), ("wb.outcomes", "section"), ("no.such", "text"),
                                      ("codes.urgency.urgent", "text"), ("codes.work", "section")]


# --- no people's text outside the catalogue -----------------------------------------------------
# whole files whose Chinese is data or developer documentation, not text shown from the catalogue
ALLOWED_FILES = {
    "server/demo.py": "demo data: names of places and people, a visit's notes",
    "server/demo_activity.py": "demo data: what villagers and cadres wrote",
    "mobile_api/openapi.py": "the API's description for developers, bilingual by design",
}
# single strings that read what people type (input) or join their own data, never our words
ALLOWED_STRINGS = {
    ("models/identity.py", r"[\s\-()（）]"), ("models/receipts.py", r"[\s\-_.·—－]+"),
    ("models/review_terms.py", "，"), ("models/review_terms.py", "¥￥"), ("models/review_terms.py", "元"),
    ("mobile_api/report_files.py", "=+-@\t\r＝＋－＠"),
    ("server/cli_users.py", "Display name, e.g. 陈志强"),  # an example of a name to type
    # a settings description for operators naming the status it is about
    ("server/config.py",
     "reports: a household marked 已脱贫 with a yearly income per person below it is listed"),
    ("sync/reconcile/duplicate_decisions.py", "；"),  # joins two households' own notes when merged
}


def _chinese_strings(tree: ast.AST) -> list[tuple[str, int]]:
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.add(id(body[0].value))
    return [(node.value, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and CJK.search(node.value)]


def test_no_chinese_text_in_python_outside_the_catalogue():
    found = []
    for path in _python_files():
        where = str(path.relative_to(ROOT))
        if where in ALLOWED_FILES:
            continue
        strings = _chinese_strings(ast.parse(path.read_text()))
        found += [f"{where}:{line}: {value!r}" for value, line in strings
                  if (where, value) not in ALLOWED_STRINGS]
    assert found == []


def test_the_chinese_scan_skips_docstrings_and_comments_only():
    tree = ast.parse('"""模块说明"""\ndef f():\n    """说明"""\n    return "已脱贫"  # 注释\n')
    assert _chinese_strings(tree) == [("已脱贫", 4)]
