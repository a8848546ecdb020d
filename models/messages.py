"""Every user-facing message, in Simplified Chinese (the default) and English.

A message is looked up by a stable machine-readable code; the code is what clients and tests
match on, the text is for people. Add a new message as one line in CATALOGUE.
"""
from __future__ import annotations

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

# code: (简体中文, English). Texts may use {placeholders}.
CATALOGUE: dict[str, tuple[str, str]] = {
    # generic field errors
    "required": ("缺少必填字段", "This field is required"),
    "unknown_field": ("未知字段", "Unknown field"),
    "invalid_type": ("字段类型不正确", "The value has the wrong type"),
    "invalid_choice": ("取值不在允许范围内：{choices}", "Must be one of: {choices}"),
    "invalid_format": ("格式不正确", "The value is not in the expected format"),
    "out_of_range": ("数值超出允许范围", "The value is out of range"),
    "too_long": ("内容过长", "The value is too long"),
    "invalid": ("字段无效", "The value is not valid"),
    # hierarchy
    "division_code_format": ("行政区划代码必须是12位数字", "A division code must be 12 digits"),
    "division_code_level": ("行政区划代码 {code} 与层级“{level}”不符",
                            "Division code {code} does not match level '{level}'"),
    "division_parent_mismatch": ("上级代码 {parent} 与代码 {code} 不符（下级代码必须以上级代码开头）",
                                 "Parent {parent} does not match code {code} (a child's code "
                                 "extends its parent's)"),
    "division_unknown_parent": ("上级区划 {parent} 不存在", "Unknown parent jurisdiction {parent}"),
    "division_duplicate": ("区划代码 {code} 重复", "Division code {code} appears twice"),
    "division_level_change": ("区划 {code} 已存在且层级不同", "Jurisdiction {code} exists with another level"),
    "jurisdiction_unknown": ("区划 {code} 不存在", "Unknown jurisdiction {code}"),
    # accounts
    "username_format": ("用户名须为3-32位小写字母、数字、点、下划线或连字符",
                        "A username is 3-32 characters: lower-case letters, digits, '.', '_' or '-'"),
    "username_duplicate": ("用户名 {username} 重复", "Username {username} appears twice"),
    "username_taken": ("用户名 {username} 已被使用", "Username {username} is already taken"),
    "username_unknown": ("用户 {username} 不存在", "No account named {username}"),
    "role_level_mismatch": ("角色“{role}”只能分配到{level}级区划",
                            "Role '{role}' must be assigned to a {level}-level jurisdiction"),
    "password_too_short": ("密码至少需要{min}位", "A password needs at least {min} characters"),
    "phone_format": ("手机号码格式不正确（应为11位大陆手机号）",
                     "Not a valid mainland mobile number (11 digits starting with 1)"),
    # provisioning files
    "file_unreadable": ("无法读取文件：{reason}", "Cannot read the file: {reason}"),
    "file_format": ("无法识别的文件格式：{reason}", "Unrecognised file format: {reason}"),
    "csv_header": ("CSV表头不正确：{reason}", "Bad CSV header: {reason}"),
    # HTTP / API
    "not_found": ("请求的资源不存在", "Not found"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "bad_request": ("请求格式不正确", "Bad request"),
    "payload_too_large": ("请求内容超过上限 {limit}", "The request is larger than the limit of {limit}"),
    "unauthorized": ("请先登录", "Authentication required"),
    "invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
    "account_disabled": ("账号已停用", "This account is disabled"),
    "forbidden": ("无权执行此操作", "You are not allowed to do this"),
    "couchdb_unavailable": ("数据库暂时无法访问，请稍后重试",
                            "The database is unavailable; please retry shortly"),
    "internal_error": ("服务器内部错误", "Internal server error"),
}


def normalise_lang(lang: str | None) -> str:
    """Map a language tag ('en-US', 'zh-Hans-CN', None) to one of LANGS."""
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG


def message(code: str, lang: str | None = DEFAULT_LANG, /, **params: object) -> str:
    """The text for `code` in `lang`, with params filled in; unknown codes fall back to the code."""
    texts = CATALOGUE.get(code)
    if texts is None:
        return code
    text = texts[LANGS.index(normalise_lang(lang))]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def both(code: str, /, **params: object) -> dict[str, str]:
    """The text for `code` in every language, keyed by language."""
    return {lang: message(code, lang, **params) for lang in LANGS}


class Coded(str):
    """A message code that carries its parameters, for use inside marshmallow's ValidationError.

    `ValidationError(Coded("role_level_mismatch", role="cadre", level="village"))` keeps the
    parameters next to the code through marshmallow's error dictionaries.
    """

    params: dict

    def __new__(cls, code: str, /, **params: object) -> "Coded":
        instance = super().__new__(cls, code)
        instance.params = params
        return instance


def describe(code: str, lang: str | None = DEFAULT_LANG, /, **context: object) -> str:
    """The text for a code or a Coded message; its own parameters win over `context`."""
    return message(str(code), lang, **{**context, **getattr(code, "params", {})})
