"""The console's message catalog: Chinese first (the staff's language), English on request (``?lang=en``).

A dict per language rather than gettext/Babel catalogs: some hundred short labels, no plural forms, and the
templates look them up by key; a key missing in English falls back to the Chinese label (never to the key).
"""
from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

ZH: dict[str, str] = {
    "payment_deadline": "回款期限", "overdue_warning": "回款预警", "warning_resolved": "预警解除", "settlement_withheld": "暂缓拨付",
    "settlement_released": "恢复拨付", "volume_warning": "约定采购量完成预警", "settlement_suspended": "暂停医保月结算",
    "settlement_resumed": "恢复医保月结算", "non_winning_cap_exceeded": "非中选药品超量", "filing_warning_line_exceeded": "备案采购超预警线",
    "manufacturer_report_missed": "生产企业月报未报", "on_time_payment_rate": "按时回款率", "non_winning_share": "非中选药品使用占比",
    "offline_purchase_share": "线下采购占比", "platform_purchase_rate": "平台采购率", "filing_purchase_amount": "备案采购金额",
    "drug_cost_growth": "药品费用增长率",
    "week": "周（周一）", "volume_completion_distribution": "约定采购量完成情况分布", "band": "完成区间", "band_suspend": "低于暂停结算线",
    "band_warning": "低于预警线", "band_met": "达到预警线以上", "band_no_target": "暂无任务量", "band_no_lines": "政策无此规则",
    "completion_lines": "预警线 / 暂停结算线", "volume_completion_list": "约定采购量完成情况",
    "console": "集采运营管理台", "overview": "全省概览", "rankings": "监测考核排名", "dead_letters": "死信", "calendar": "节假日安排",
    "audit": "操作记录", "sign_in": "登录", "sign_out": "退出", "username": "用户名", "password": "密码",
    "bad_credentials": "用户名或密码错误", "withheld_institutions": "暂缓拨付的医疗机构", "suspended_institutions": "暂停结算的医疗机构",
    "overdue_by_region": "各统筹区逾期未回款", "region": "统筹区", "overdue_count": "逾期发票数", "overdue_amount": "逾期金额（元）",
    "warnings_per_week": "每周预警（新增/关闭）", "opened": "新增", "closed": "关闭", "blocked_decisions": "无法作出的决定",
    "dead_letters_per_service": "各服务死信", "calendar_coverage": "工作日历覆盖至", "calendar_waiting": "等待日历的发票",
    "consumer_lag": "消费延迟", "service": "服务", "consumer": "消费者", "lag": "延迟（条）", "last_closed_on": "最近日结",
    "institution": "医疗机构", "institutions": "医疗机构", "name": "名称", "invoices": "发票", "invoice": "发票",
    "received_on": "收到", "deadline": "回款期限", "warned_on": "预警", "withheld_from": "暂缓拨付自", "paid": "已回款",
    "outstanding": "未回款", "amount": "金额", "status": "状态", "payments": "回款", "payment": "回款", "paid_on": "回款日期",
    "alerts": "预警与决定", "kind": "类别", "since": "起始", "why": "原因", "decision": "决定", "volume_completion": "约定采购量完成",
    "period_end": "考核期末", "ratio": "完成率", "kpis_of_month": "本月监测指标", "indicator": "指标", "value": "数值",
    "exemptions": "不可抗力豁免", "grant_exemption": "给予豁免（不可抗力）", "revoke_exemption": "撤销豁免", "reason": "理由",
    "from": "自", "to": "至", "exemption_id": "豁免编号", "confirm": "确认", "cancel": "取消", "preview": "预览",
    "confirm_title": "请确认操作", "done": "已完成", "refused": "被拒绝", "redrive": "重新投递", "resolve": "不再处理",
    "load_calendar": "载入全年节假日安排", "notice_text": "国务院办公厅通知全文", "year": "年份", "holidays": "放假日",
    "makeup_days": "调休上班日", "filing_line": "备案采购金额预警线", "set_filing_line": "设置备案采购预警线", "from_year": "起始年份",
    "who": "操作人", "when": "时间", "action": "操作", "target": "对象", "outcome": "结果", "forbidden": "无权访问",
    "forbidden_detail": "您的账号无权查看此页面或执行此操作。", "role": "角色", "export_csv": "导出 CSV", "export_xlsx": "导出 Excel",
    "by_institution": "按医疗机构", "by_region": "按统筹区", "month": "月份", "rank": "排名", "order": "排序",
    "chain": "决定链", "events": "相关事件", "profile": "政策版本", "parameters": "规则参数", "notice": "依据文件",
    "evaluation": "考核明细", "calendar_source": "工作日历来源", "none": "无", "timeline": "发票时间线", "contracts": "合同",
    "distributor": "配送企业", "language": "English", "total": "合计", "normal": "正常", "suspended": "暂停结算",
    "go_lives": "规则上线日期", "rule": "规则", "go_live": "上线日期", "set_go_live": "设置上线日期", "not_available": "服务暂不支持此操作",
    "open": "未关闭", "message": "信息", "first_seen": "首次", "count": "次数", "waiting_for_year": "等待年份",
    "service_unavailable": "服务暂时无法访问", "no_records": "暂无记录", "roles_operator": "运营（可操作）",
    "roles_fund": "医保基金（只读全省）", "roles_read_only": "只读", "roles_institution": "医疗机构用户", "roles_distributor": "配送企业用户",
}

EN: dict[str, str] = {
    "payment_deadline": "Payment deadline", "overdue_warning": "Payment warning", "warning_resolved": "Warning resolved",
    "settlement_withheld": "Settlement withheld", "settlement_released": "Settlement released", "volume_warning": "Volume warning",
    "settlement_suspended": "Settlement suspended", "settlement_resumed": "Settlement resumed",
    "non_winning_cap_exceeded": "Non-winning above the cap", "filing_warning_line_exceeded": "Filing purchases above the line",
    "manufacturer_report_missed": "Manufacturer's report missed", "on_time_payment_rate": "On-time payment rate",
    "non_winning_share": "Non-winning share", "offline_purchase_share": "Offline purchase share",
    "platform_purchase_rate": "Platform purchase rate", "filing_purchase_amount": "Filing purchase amount", "drug_cost_growth": "Drug cost growth",
    "week": "Week (Monday)", "volume_completion_distribution": "Volume completion by band", "band": "Band", "band_suspend": "below the suspension line",
    "band_warning": "below the warning line", "band_met": "at or above the warning line", "band_no_target": "no target yet",
    "band_no_lines": "no R3 in the profile", "completion_lines": "Warning / suspension line", "volume_completion_list": "Volume completion",
    "console": "Jicai operations console", "overview": "Province overview", "rankings": "Rankings", "dead_letters": "Dead letters",
    "calendar": "Holiday calendar", "audit": "Audit", "sign_in": "Sign in", "sign_out": "Sign out", "username": "Username",
    "password": "Password", "bad_credentials": "Wrong username or password", "withheld_institutions": "Institutions withheld",
    "suspended_institutions": "Institutions suspended", "overdue_by_region": "Overdue by pooling region", "region": "Pooling region",
    "overdue_count": "Overdue invoices", "overdue_amount": "Overdue amount (yuan)", "warnings_per_week": "Warnings per week (opened/closed)",
    "opened": "opened", "closed": "closed", "blocked_decisions": "Blocked decisions", "dead_letters_per_service": "Dead letters per service",
    "calendar_coverage": "Calendar covered until", "calendar_waiting": "Invoices waiting for a calendar", "consumer_lag": "Consumer lag",
    "service": "Service", "consumer": "Consumer", "lag": "Lag (messages)", "last_closed_on": "Last closed day",
    "institution": "Institution", "institutions": "Institutions", "name": "Name", "invoices": "Invoices", "invoice": "Invoice",
    "received_on": "Received", "deadline": "Deadline", "warned_on": "Warned", "withheld_from": "Withheld from", "paid": "Paid",
    "outstanding": "Outstanding", "amount": "Amount", "status": "Status", "payments": "Payments", "payment": "Payment",
    "paid_on": "Paid on", "alerts": "Alerts and decisions", "kind": "Kind", "since": "Since", "why": "Why", "decision": "Decision",
    "volume_completion": "Volume completion", "period_end": "Period end", "ratio": "Ratio", "kpis_of_month": "KPIs of the month",
    "indicator": "Indicator", "value": "Value", "exemptions": "Exemptions (force majeure)", "grant_exemption": "Grant an exemption (force majeure)",
    "revoke_exemption": "Revoke exemption", "reason": "Reason", "from": "From", "to": "To", "exemption_id": "Exemption id",
    "confirm": "Confirm", "cancel": "Cancel", "preview": "Preview", "confirm_title": "Please confirm", "done": "Done", "refused": "Refused",
    "redrive": "Redrive", "resolve": "Resolve", "load_calendar": "Load a year's holiday calendar", "notice_text": "The State Council notice",
    "year": "Year", "holidays": "Rest days", "makeup_days": "Make-up working days", "filing_line": "Filing-purchase warning line",
    "set_filing_line": "Set the filing-purchase warning line", "from_year": "From year", "who": "Who", "when": "When", "action": "Action",
    "target": "Target", "outcome": "Outcome", "forbidden": "Forbidden", "forbidden_detail": "Your account may not open this page or do this.",
    "role": "Role", "export_csv": "Export CSV", "export_xlsx": "Export XLSX", "by_institution": "By institution", "by_region": "By region",
    "month": "Month", "rank": "Rank", "order": "Order", "chain": "Decision chain", "events": "Events", "profile": "Policy profile",
    "parameters": "Rule parameters", "notice": "Notice", "evaluation": "Evaluation", "calendar_source": "Calendar source", "none": "None",
    "timeline": "Invoice timeline", "contracts": "Contracts", "distributor": "Distributor", "language": "中文", "total": "Total",
    "normal": "normal", "suspended": "suspended", "go_lives": "Rule go-lives", "rule": "Rule", "go_live": "Go-live",
    "set_go_live": "Set go-live", "not_available": "The service does not offer this yet", "open": "open", "message": "Message",
    "first_seen": "First seen", "count": "Count", "waiting_for_year": "Waiting for year", "service_unavailable": "Service unavailable",
    "no_records": "Nothing recorded", "roles_operator": "Operator (acts)", "roles_fund": "Fund (reads the province)",
    "roles_read_only": "Read-only", "roles_institution": "Institution user", "roles_distributor": "Distributor user",
}

CATALOGS = {"zh": ZH, "en": EN}


def language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[[str], str]:
    catalog = CATALOGS[language(lang)]

    def t(key: str) -> str:
        return catalog.get(key) or ZH.get(key) or key

    return t
