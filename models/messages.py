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
    "frontend_not_built": ("前端页面尚未构建，请先运行 make install", "The front end is not built yet: run `make install`"),
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
    "bad_json": ("请求内容不是有效的JSON", "The request body is not valid JSON"),
    "token_revoked": ("登录凭证已失效，请重新登录", "This token has been revoked; please log in again"),
    "token_expired": ("登录凭证已过期，请重新登录", "This token has expired; please log in again"),
    "token_required": ("续期需要使用设备登录凭证（而非密码）",
                       "Renewal takes a device token as the password, not the account's password"),
    "device_id_taken": ("设备编号 {device_id} 已被其他账号登记，请在本设备重新生成编号后登录",
                        "Device id {device_id} is registered to another account; make a new id and log in"),
    "key_missing": ("未设置 {name}，拒绝启动（各进程须使用同一密钥，例如 openssl rand -hex 32 生成）",
                    "{name} is not set: refusing to start (every process needs the same key, "
                    "e.g. from openssl rand -hex 32)"),
    # sync gateway
    "village_forbidden": ("您只能同步本村（{own}）的数据，无权访问村 {village}",
                          "You may sync your own village ({own}) only, not village {village}"),
    "village_unknown": ("村 {village} 尚未开通", "Village {village} is not provisioned"),
    "sync_endpoint_unknown": ("同步接口不支持 {endpoint}", "The sync gateway does not serve {endpoint}"),
    "bad_sync_path": ("同步地址不合法（村代码后第 {position} 段，0 表示地址本身或村代码）：不允许空段、"
                      "任何编码形式的 . 或 .. 段、反斜杠、控制字符、非ASCII字符或编码的 / ? # %",
                      "The sync path is not valid (segment {position} after the village; 0: the "
                      "address or the village code): empty segments, . or .. in any encoding, "
                      "backslashes, control or non-ASCII characters and encoded / ? # % are refused"),
    "bad_doc_id": ("文档编号不符合设备约定（“类型前缀:编号”，或 _local/ 下由字母、数字和 . _ = + - 组成）",
                   "The document id does not follow the device contract ('<type prefix>:<key>', or "
                   "a _local/ id of letters, digits and . _ = + -)"),
    "bad_attachment_name": ("附件名须为1-100位字母、数字、点、下划线或连字符，并以字母或数字开头",
                            "An attachment name is 1-100 letters, digits, '.', '_' or '-', starting "
                            "with a letter or digit"),
    "bad_path": ("地址中的编号不合法（. 或 .. 段、反斜杠或空字符），请求未发送到数据库",
                 "An id in the address is not valid (a . or .. segment, a backslash or NUL); "
                 "nothing was sent to the database"),
    "sync_param_unknown": ("此同步接口不接受参数 {param}（可用：{allowed}）",
                           "This sync endpoint does not take the parameter {param} (allowed: {allowed})"),
    "bad_sync_param": ("参数 {param} 的值不合法，或重复出现", "Parameter {param} has an invalid value or appears twice"),
    "feed_not_supported": ("不支持 feed={feed}（仅支持 normal 和 longpoll）",
                           "feed={feed} is not supported (normal and longpoll only)"),
    "filter_not_supported": ("不支持过滤器 {filter}（仅支持 _doc_ids）",
                             "Filter {filter} is not supported (only _doc_ids)"),
    "too_many_waiting": ("等待中的同步请求过多（上限 {limit}），请稍后重试",
                         "Too many waiting sync requests (limit {limit}); retry shortly"),
    "too_many_waiting_account": ("本账号等待中的同步请求过多（上限 {limit}），请稍后重试",
                                 "This account has too many waiting sync requests (limit {limit}); retry shortly"),
    "bad_bulk_docs": ("_bulk_docs 请求须包含 docs 数组", "A _bulk_docs body needs a \"docs\" array"),
    "id_mismatch": ("文档 _id 与地址不符", "The document _id does not match the URL"),
    "validation_failed": ("提交的内容有误，请检查标出的字段", "The request has invalid fields; see details"),
    "photo_not_image": ("照片无法识别为图片文件", "The photo is not an image file"),
    "photo_format": ("不支持的图片格式 {format}（请使用JPEG或PNG）",
                     "Unsupported image format {format} (use JPEG or PNG)"),
    "photo_too_many_pixels": ("照片像素过多（{pixels}，上限 {limit}），可能是异常文件",
                              "The photo has too many pixels ({pixels}, limit {limit})"),
    "photo_corrupt": ("照片文件不完整或已损坏，请重新拍摄", "The photo file is truncated or corrupt; please retake it"),
    # photos uploaded through the API (POST /api/v1/villages/<village>/docs/<doc id>/photos)
    "document_unknown": ("村 {village} 没有记录 {doc_id}", "Village {village} has no record {doc_id}"),
    "photo_doc_type": ("只能为核查走访记录上传照片（{doc_id}）",
                       "Photos can be uploaded for verification visits only ({doc_id})"),
    "photo_doc_quarantined": ("该记录有待更正的问题，请先更正并同步记录，再上传照片",
                              "This record has problems to correct: correct and sync it first, "
                              "then upload the photo"),
    "photo_name_taken": ("该记录已有另一张名为 {name} 的照片", "The record already has another photo named {name}"),
    "photo_content_type": ("请以图片格式上传照片（收到 {content_type}）",
                           "Upload the photo as an image (got {content_type})"),
    "photo_missing": ("请求中没有照片文件（表单字段 photo）", "The request has no photo file (form field photo)"),
    "app_version_unsupported": ("应用版本 {current} 过旧，请升级到 {minimum} 或更高版本",
                                "App version {current} is no longer supported; please update to {minimum} or later"),
    "device_status_format": ("请求头 {header} 格式不正确（待上传数、被拒收数为非负整数，本机序号为1-64位字母数字）",
                             "Header {header} is malformed (counts are non-negative integers, the sequence 1-64 letters and digits)"),
    "rate_limited": ("请求过于频繁，请 {retry_after} 秒后再试", "Too many requests; try again in {retry_after} s"),
    "receipt_format": ("受理编号应为10位字母和数字（如 7K3QX-9M2PA）",
                       "A receipt number is 10 letters and digits (e.g. 7K3QX-9M2PA)"),
    "receipt_not_found": ("没有找到这条申请：请核对受理编号和申请时填写的手机号",
                          "No such request: check the receipt number and the mobile number you gave"),
    "account_locked": ("登录失败次数过多，账号已临时锁定，请 {retry_after} 秒后再试",
                       "Too many failed logins; the account is locked for {retry_after} s"),
    "written_once": ("该记录已同步，不能修改；如需更正请新建记录或联系镇街",
                     "This record was already synced and cannot be changed; record a new one"),
    "correction_forbidden": ("只有本村（{village}）的村干部可以更正该记录",
                             "Only a cadre of village {village} may correct this record"),
    "correction_base": ("更正须基于服务器上的当前版本 {current}：请先同步，再更正",
                        "A correction must build on the stored revision {current}: sync first, then correct"),
    "duplicate_in_batch": ("同一次提交中记录 {doc_id} 出现了不止一次",
                           "Record {doc_id} appears more than once in one request"),
    "rev_format": ("版本号 _rev 缺失或格式不正确（应为“代数-十六进制”）",
                   "The _rev is missing or malformed (expected '<generation>-<hex>')"),
    "revisions_mismatch": ("版本历史 _revisions 与版本号 _rev 不一致",
                           "The _revisions history does not agree with the _rev"),
    "put_query_unsupported": ("保存记录时不支持查询参数 {param}",
                              "Query parameter {param} is not supported when saving a record"),
    "reserved_field": ("字段名 {field} 以下划线开头，为数据库保留", "Field {field} starts with '_', which the database reserves"),
    "attachment_too_large": ("附件大小 {size} 字节超过上限 {limit}",
                             "An attachment of {size} bytes is over the limit of {limit}"),
    "attachment_type": ("附件 {name} 只能是照片（JPEG、PNG、WebP 或 HEIF），不能是 {content_type}",
                        "Attachment {name} must be a photo (JPEG, PNG, WebP or HEIF), not {content_type}"),
    "bulk_docs_too_many": ("一次同步最多 {limit} 条记录，本次 {count} 条；请减小 batch_size",
                           "At most {limit} documents per _bulk_docs, not {count}; lower batch_size"),
    # field documents (models/): field errors
    "too_short": ("内容过短或为空", "The value is too short or empty"),
    "length_range": ("长度须在{min}到{max}之间", "The length must be between {min} and {max}"),
    "time_format": ("时间格式不正确（应为带时区的ISO 8601时间，如2024-05-01T09:30:00+08:00）",
                    "Not an ISO 8601 time with a UTC offset (e.g. 2024-05-01T09:30:00+08:00)"),
    "id_number_format": ("身份证号码应为18位（前17位为数字，末位为数字或X）",
                         "An identity number has 18 characters: 17 digits, then a digit or X"),
    "id_number_area": ("身份证号码的地址码无效", "The identity number's area code is not valid"),
    "id_number_birth_date": ("身份证号码中的出生日期无效",
                             "The identity number's birth date is not a valid date"),
    "id_number_checksum": ("身份证号码校验位错误，请核对号码",
                           "The identity number's check digit is wrong; please check the number"),
    "device_id_format": ("设备编号格式不正确", "Not a valid device id"),
    "stamp_format": ("修改时间戳格式不正确", "Not a valid field stamp (hybrid logical clock)"),
    "stamp_missing": ("该字段有值但缺少修改时间戳", "This field has a value but no stamp"),
    "stamp_unknown_field": ("时间戳指向的字段不存在或不可单独合并",
                            "The stamp names a field that does not exist or is not merged alone"),
    "stamp_in_future": ("修改时间远超服务器时间，请校正手机时间后重新保存",
                        "The stamp is far ahead of the server clock; fix the phone's clock and "
                        "save again"),
    "reasons_required": ("结论为不通过或需跟进时必须填写原因",
                         "Give at least one reason when the verdict is fail or follow-up"),
    "notes_required": ("选择“其他”原因时必须填写说明", "Add a note when the reason is 'other'"),
    # field documents: what the sync gateway decides about a whole document
    "malformed_document": ("无法识别的文档（不是对象或缺少_id）",
                           "Unidentifiable document (not an object, or no _id)"),
    "design_doc_forbidden": ("设备不得写入设计文档", "Devices may not write design documents"),
    "unknown_document_type": ("未知的文档类型（编号前缀无法识别）",
                              "Unknown document type (the id prefix is not recognised)"),
    "server_owned_type": ("此类文档只能由服务器写入", "Only the server writes documents of this type"),
    "delete_forbidden": ("不允许删除已同步的记录，请改为提交更正",
                         "Synced records cannot be deleted; submit a correction instead"),
    "doc_id_format": ("文档编号格式不正确（应为“类型前缀:UUID”）",
                      "Malformed document id (expected '<type prefix>:<uuid>')"),
    "id_type_mismatch": ("文档类型与编号前缀不符", "The document type does not match its id prefix"),
    "wrong_village": ("文档属于其他村，不能同步到本村数据库",
                      "The document belongs to another village and cannot sync into this one"),
    "schema_version_unsupported": ("服务器暂不支持此文档版本，记录已保存待处理",
                                   "The server does not support this document version yet; "
                                   "the record is kept for review"),
    # mediation alerts (docs/alerts.md)
    "alert_not_found": ("预警 {id} 不存在", "No alert {id}"),
    "alert_already_resolved": ("该预警已办结，不能再操作", "This alert is already resolved"),
    "nobody_on_duty": ("{place}无人值班，预警将发给本镇全部干部（无则发给县区）",
                       "Nobody is on duty in {place}: alerts go to all its officials (else the county's)"),
    "alert_not_acknowledged": ("请先签收再办结", "Acknowledge the alert before resolving it"),
    "alert_not_responsible": ("本级不是该预警的责任单位，只能查看",
                              "Your level is not responsible for this alert: read only"),
    "mediator_not_listed": ("调解员 {name} 不在本镇调解员名单中",
                            "Mediator {name} is not on the town's list of mediators"),
    "alert_tab_invalid": ("列表 {tab} 无效（可选 pending、in_progress、overdue、resolved、all）",
                          "Unknown list {tab} (use pending, in_progress, overdue, resolved or all)"),
    "too_many_streams": ("实时连接数已达上限，请稍后重试", "Too many live streams; retry shortly"),
    "too_many_streams_account": ("本账号的实时连接数已达上限（{limit}），请关闭多余的页面后重试",
                                 "This account has too many live streams open (limit {limit}); close some pages and retry"),
    "period_invalid": ("统计周期 {period} 无效（可选 1d、7d、30d、90d、365d、all）",
                       "Unknown period {period} (use 1d, 7d, 30d, 90d, 365d or all)"),
    "roster_csv_header": ("值班表文件须有表头 code,on_duty（可加 leader,mediators）",
                          "A roster file needs the header code,on_duty (leader,mediators optional)"),
    "roster_csv_row": ("值班表第 {line} 行不合法：用户名以 ; 分隔，调解员写作“姓名 手机号”",
                       "Roster line {line} is not valid: usernames separated by ;, a mediator "
                       "as 'name phone'"),
    "roster_line": ("{place}（{code}）值班：{on_duty}；负责人：{leader}；调解员：{mediators}",
                    "{place} ({code}) on duty: {on_duty}; leader: {leader}; mediators: {mediators}"),
    "roster_saved": ("已保存{place}的值班表", "Saved the roster of {place}"),
    "roster_none": ("无", "none"),
    "roster_not_found": ("{code} 不是镇街或县区，没有值班表",
                         "{code} is not a town or county and has no duty roster"),
    "roster_member_unknown": ("用户 {username} 不存在", "No account named {username}"),
    "roster_member_outside": ("用户 {username} 不是 {code} 的干部，不能排入值班表",
                              "{username} is not an official of {code} and cannot be on its roster"),
    # reconciliation review (central office)
    "review_task_unknown": ("复核任务 {task} 不存在", "No review task {task}"),
    "yuan_format": ("金额 {value} 无法识别：请填写元，最多两位小数（如 3520 或 3520.50）",
                    "Amount {value} not understood: give yuan with at most two decimals (e.g. 3520 or 3520.50)"),
    "review_reason_required": ("请填写不是同一户的理由", "Give the reason why these are not the same household"),
    "review_keep_invalid": ("保留的记录 {keep} 不在该任务中", "Record {keep} to keep is not in this task"),
    "review_task_closed": ("复核任务已处理（{state}）", "This review task is already {state}"),
    "review_task_not_decidable": ("此类复核任务不能通过选值处理",
                                  "This kind of review task is not decided by choosing a value"),
    "review_pick_invalid": ("请给出 pick（候选值序号）或 value（修改后的值）之一",
                            "Give either pick (a candidate's index) or value (an edited value)"),
    # reports (central office and county officials)
    "report_unknown": ("报表 {name} 不存在（可选 coverage、lifted_but_failing、mediation_sla、open_work）",
                       "No report {name} (coverage, lifted_but_failing, mediation_sla, open_work)"),
    "report_format_unknown": ("报表格式 {format} 不支持（可选 json、csv、xlsx）",
                              "Report format {format} is not supported (json, csv, xlsx)"),
    "report_date_invalid": ("日期 {value} 无效（格式 YYYY-MM-DD，且起始不晚于结束）",
                            "Date {value} is not valid (YYYY-MM-DD, and from must not be after to)"),
    # the command line (server/cli.py, server/cli_users.py)
    "cli_account_not_created": ("账号未创建", "account not created"),
    "cli_account_created": ("已创建账号 {username}（{jurisdiction} 的{role}）",
                            "created {username} ({role} of {jurisdiction})"),
    "cli_initial_password": ("初始密码：{password}", "initial password: {password}"),
    "cli_state_active": ("启用", "active"),
    "cli_state_disabled": ("已停用", "disabled"),
    "cli_account_disabled": ("已停用账号 {username}（其令牌立即失效）", "{username} disabled"),
    "cli_account_enabled": ("已重新启用账号 {username}", "{username} re-enabled"),
    "cli_password_reset": ("已重置 {username} 的密码（此前的令牌全部失效）",
                           "password of {username} reset"),
    "cli_new_password": ("新密码：{password}", "new password: {password}"),
    "cli_sync_grants": ("{username} 可同步的村：{villages}", "{username} may sync: {villages}"),
    "cli_no_grants": ("无授权村", "no granted villages"),
    "cli_provision_problems": ("{files} 中有 {count} 处问题；未做任何修改",
                               "{count} problem(s) in {files}; nothing was changed"),
    "cli_provision_nothing": ("无需修改：{unchanged} 行已是当前状态",
                              "nothing to change: {unchanged} rows already provisioned"),
    "cli_provision_plan": ("将写入 {jurisdictions} 个区划和 {accounts} 个账号，{unchanged} 项不变",
                           "{jurisdictions} jurisdiction(s) and {accounts} account(s) to write, "
                           "{unchanged} unchanged"),
    "cli_dry_run": ("试运行：未写入任何内容", "dry run: nothing written"),
    "cli_plan_jurisdiction_new": ("新增区划 {key}", "new jurisdiction {key}"),
    "cli_plan_jurisdiction_changed": ("修改区划 {key}：{fields}", "jurisdiction {key} changes: {fields}"),
    "cli_plan_account_new": ("新增账号 {key}", "new account {key}"),
    "cli_plan_account_changed": ("修改账号 {key}：{fields}", "account {key} changes: {fields}"),
    "cli_plan_password_reset": ("注意：账号 {username} 的密码将被重置，其所有令牌随之失效",
                                "warning: the password of {username} will be reset and all its "
                                "tokens revoked"),
    "cli_provision_done": ("完成：写入 {changes} 个文档", "done: wrote {changes} document(s)"),
    "cli_initial_passwords": ("初始密码（请分别交给本人；只显示这一次）：",
                              "initial passwords (give each to its holder; shown only once):"),
    "cli_demo_loaded": ("演示数据已载入：写入 {changed} 个文档",
                        "demo data loaded: {changed} document(s) written"),
}


def size_limit(limit_bytes: int) -> str:
    """A byte limit as a message parameter: whole MiB, or bytes under one MiB."""
    mib = 1024 * 1024
    return f"{limit_bytes // mib} MiB" if limit_bytes >= mib else f"{limit_bytes} bytes"


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
