"""The command line: a thin layer over ``budgetxl.pipeline`` (and, for many
files, the batch runner and the bureau's intake). The spec is chosen here,
once (``--spec``), and passed down.

Exit status: 0 done; 1 the workbook has 错误-level findings (check); 2 the
command could not run (unreadable file, bad arguments).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from . import pipeline
from .errors import CodeListError, ConfigureError, FillError, RosterError, TemplateError
from .grid import WorkbookError
from .model import Finding, Severity
from .money import fmt
from .report import text_table
from .spec import DEFAULT_SPEC, Spec, load_spec

# Imported where used, not here: every command starts by importing this module,
# and `check` should not pay for the JSON writer, subtotals, fill or the bureau.

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2


def _jobs(text: str) -> int:
    """-j: a whole number of processes, at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"-j 需要 1 或更大的整数（收到：{text}）")
    return n


def _print_findings(findings, stream=None) -> None:
    for f in sorted(findings, key=lambda f: f.severity.rank):
        print(f"  [{f.severity.value}] {f.code} {f.message}", file=stream or sys.stdout)


def _summary(findings: list[Finding] | tuple) -> str:
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    return "，".join(f"{s.value} {n} 个" for s, n in counts.items())


def cmd_template(args, spec: Spec) -> int:
    if args.xlsm or args.output.suffix.lower() == ".xlsm":
        from .xlsm import write_xlsm

        if args.output.suffix.lower() != ".xlsm":
            print(f"错误：启用宏的工作簿须以 .xlsm 结尾（收到：{args.output.name}）", file=sys.stderr)
            return EXIT_FAILED
        path = write_xlsm(args.output, spec)
        print(f"已生成启用宏的标准模板（功能区“预算公开”选项卡，五个按钮）：{path}")
        return EXIT_OK
    path = pipeline.write_template(args.output, spec)
    print(f"已生成标准模板：{path}")
    return EXIT_OK


def cmd_fill(args, spec: Spec) -> int:
    path = pipeline.fill_file(args.data, args.output, spec, args.template)
    print(f"已根据 {args.data} 填写工作簿：{path}")
    return EXIT_OK


def cmd_subtotal(args, spec: Spec) -> int:
    with _reporting_cleanings():
        run = pipeline.subtotal_file(args.workbook, spec, args.output, args.in_place)
    edits = run.edits
    if edits:
        from .subtotals import describe

        print(f"计算小计：改动 {len(edits)} 个单元格")
        for e in edits:
            print(f"  {describe(e)}")
    else:
        print("计算小计：所有小计、合计与汇总表均已正确，无需改动。")
    findings = [*run.read_findings, *run.result.findings, *run.write_findings]
    if findings:
        print(f"读取时发现的问题（{_summary(findings)}）：")
        _print_findings(findings)
    print(f"已写入：{run.target}")
    return EXIT_OK


def _codes(text: str | None) -> list[str] | None:
    return [c for c in text.replace("，", ",").split(",") if c.strip()] if text else None


def _unknown_codes(patterns: list[str]) -> list[str]:
    """--select/--ignore patterns that match no catalogued code (a typo would otherwise look like a pass)."""
    if not patterns:  # the catalogue (every rule, the docs' sections) is only needed to check patterns
        return []
    from .rules.catalogue import entries

    codes = list(entries())
    return [p.strip() for p in patterns if not any(c.upper().startswith(p.strip().upper()) for c in codes)]


def cmd_check(args, spec: Spec) -> int:
    reading = pipeline.read(args.workbook, spec)
    unknown = _unknown_codes([*(_codes(args.select) or []), *(_codes(args.ignore) or [])])
    if unknown:
        print(f"错误：没有代码或前缀为 {'、'.join(unknown)} 的规则。运行 budgetxl rules 查看全部规则代码。", file=sys.stderr)
        return EXIT_FAILED
    report = pipeline.check(reading, spec, _codes(args.select), _codes(args.ignore), args.functional_codes, args.economic_codes)
    args.exit_code = EXIT_FINDINGS if report.has_errors else EXIT_OK  # also when the reader of the output stops early
    if args.json:
        import json

        from .model_json import decimal_default

        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2, default=decimal_default)
        sys.stdout.write("\n")
    else:
        print(text_table(report, min_severity=_severity(args.min_severity)))
    if args.annotate:
        with _reporting_cleanings():
            path = pipeline.annotate(reading, report, spec, args.workbook, args.annotate)
        print(f"已写入带校验结果的副本：{path}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_FINDINGS if report.has_errors else EXIT_OK


def _severity(text: str | None):
    from .model import Severity

    return Severity(text) if text else None


def cmd_narrate(args, spec: Spec) -> int:
    reading = pipeline.read(args.workbook, spec)
    narrative = pipeline.narrate(reading, spec, args.templates)
    if args.format == "json":
        import json

        json.dump(narrative.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(narrative.to_markdown())
    else:
        sys.stdout.write(narrative.to_text())
    if args.write or args.in_place:
        with _reporting_cleanings():
            path = pipeline.write_narrative(reading, narrative, spec, args.workbook, args.write, args.in_place)
        print(f"已写入“情况说明”工作表：{path}", file=sys.stderr)
    return EXIT_OK


def cmd_rollover(args, spec: Spec) -> int:
    path, carried = pipeline.rollover_file(args.workbook, args.output, spec)
    print(f"已生成新年度工作簿：{path}")
    print(f"“上年数与原因”已填入上一年度的 {carried} 项预算数，增减原因留空；各表保留科目和项目，金额已清空。")
    print("下一步：填写本年各表金额和单位信息中的日期，运行“计算小计”和“校验”；有增减而没有原因的项目会报 F01，缺少上年数的新项目会报 F02。")
    return EXIT_OK


def cmd_convert(args, spec: Spec) -> int:
    from .batch import FAILED, FORMATS, OK, REFUSED, SKIPPED, convert_all, find_workbooks, join_sentences

    formats = tuple(f.strip().lower() for f in args.to.replace("，", ",").split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        print(f"错误：--to 只能是 {','.join(FORMATS)} 中的一个或几个（收到：{args.to}）", file=sys.stderr)
        return EXIT_FAILED
    sources = find_workbooks(args.inputs)
    if not sources:
        print("错误：没有找到 .xlsx 工作簿。", file=sys.stderr)
        return EXIT_FAILED
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, result) -> None:
        bar = "█" * (20 * done // total) + "░" * (20 - 20 * done // total)
        if tty:
            print(f"\r[{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)
        else:
            print(f"[{done}/{total}] {result.source.name}", file=sys.stderr)

    results = convert_all(sources, Path(args.output), formats, args.jobs, args.force, args.overwrite, spec, progress)
    if tty:
        print(file=sys.stderr)
    for r in results:
        names = "、".join(p.name for p in r.outputs)
        detail = join_sentences(x for x in (names, r.message) if x)
        print(f"{r.status}  {r.source}  {detail}")
        for line in r.adjustments:
            print(f"    尾差调整 {line}")
    counts = {s: sum(1 for r in results if r.status == s) for s in (OK, SKIPPED, REFUSED, FAILED)}
    print(f"共 {len(results)} 个工作簿：完成 {counts[OK]}，跳过 {counts[SKIPPED]}，未转换 {counts[REFUSED]}，失败 {counts[FAILED]}。输出目录：{args.output}")
    return EXIT_FINDINGS if counts[REFUSED] or counts[FAILED] else EXIT_OK


def cmd_excel_setup(args, spec: Spec) -> int:
    """A copy of the shipped macro-enabled workbook, with this computer's Python written in."""
    from .excel_setup import setup

    path, key, interpreter, rebuilt = setup(args.output, spec, args.interpreter, args.target, custom_spec=args.spec != DEFAULT_SPEC)
    print(f"已生成带按钮的工作簿：{path}（功能区“预算公开”选项卡）。打开时请点“启用内容”（宏）。")
    if rebuilt:
        print("已按本机安装的 xlwings 版本和模板规格重新生成工作簿中的宏。")
    if key:
        print(f"按钮使用的 Python：{interpreter}（已写入隐藏的 xlwings.conf 工作表 {key}）。")
    else:
        print("本机不是 Windows 或 macOS，未写入 Python 路径：在 Windows 上按钮使用 PATH 中的 python；"
              "需要指定时运行 budgetxl excel configure 工作簿.xlsm --interpreter 路径。")
    return EXIT_OK


def cmd_excel_configure(args, spec: Spec) -> int:
    from .excel_setup import INTERPRETER_KEYS, configure, read_conf

    path = configure(args.workbook, args.interpreter, args.target, args.output)
    key = INTERPRETER_KEYS[args.target]
    print(f"已把 {key} = {read_conf(path).get(key)} 写入 {path} 的 xlwings.conf 工作表。")
    return EXIT_OK


def _bureau_output(bureau, args, spec: Spec) -> None:
    """The status workbook (-o) and the feedback files (--feedback)."""
    if args.previous and bureau.previous_year and bureau.previous_year == bureau.year:
        print(f"注意：--previous 指定的数据库也是 {bureau.year} 年的数据，请确认是否为上一年度的数据库。", file=sys.stderr)
    if args.output:
        from .collect.status_book import write

        with _reporting_cleanings():
            path = write(bureau, args.output)
        print(f"已写入报送状态与汇总：{path}")
    if args.feedback:
        from .collect.feedback import write_feedback

        run = write_feedback(bureau, args.db, args.feedback, spec, args.feedback_zip,
                             progress=lambda dep, path: print(f"  反馈  {dep}  {path.name}", flush=True), workers=getattr(args, "jobs", 1))
        print(f"校验反馈：新写入 {len(run.written)} 个，内容未变未重写 {len(run.unchanged)} 个。目录：{run.folder}")
        for dep, why in run.missing:
            print(f"  未能生成反馈  {dep}：{why}")
        if run.zip:
            print(f"本次写入的反馈已打包：{run.zip}")


def _bureau(args):
    """Status, consolidated totals, comparisons (and last year's, with --previous) from a bureau database."""
    from .collect.roster import RosterError, read_roster
    from .collect.status import PreviousError, analyse

    try:
        return analyse(args.db, read_roster(args.roster) if args.roster else None, args.year, args.previous)
    except PreviousError as exc:  # shown like a bad roster
        raise RosterError(str(exc)) from None


def _check_previous(args) -> None:
    if args.previous and not Path(args.previous).is_file():
        raise FileNotFoundError(2, "no such file", str(args.previous))


def _file_line(done: int, total: int, sub) -> str:
    who = sub.department or "（无单位名称）"
    detail = sub.error if sub.error else f"错误 {sub.errors}，警告 {sub.warnings}，提示 {sub.infos}"
    return f"[{done}/{total}] {sub.file_name}  {who}  {sub.status}  {detail}"


def cmd_collect(args, spec: Spec) -> int:
    from .collect import collect
    from .collect.roster import read_roster
    from .paths import find_workbooks

    if args.roster:
        read_roster(args.roster)  # a bad roster fails before hours of intake, not after
    _check_previous(args)
    paths = find_workbooks(args.inputs)
    bar = sys.stderr.isatty()  # a bar only where someone watches; the lines always (a log gets them)

    def progress(done, total, sub) -> None:
        if bar:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
        print(_file_line(done, total, sub), flush=True)
        if bar:
            filled = 20 * done // total
            print(f"\r[{'█' * filled}{'░' * (20 - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)

    print(f"收到 {len(paths)} 个文件，开始读取和校验……", flush=True)
    run = collect(paths, args.db, spec, args.jobs, args.scheduler, progress)
    if bar:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    print(f"收到 {len(paths)} 个文件：新报送 {len(run.new)} 份，已收过 {len(run.known)} 份（未重复保存）。数据库：{args.db}")
    _print_unopened(run)
    bureau = _bureau(args)
    print(bureau.summary_line())
    if bureau.bureau_findings:
        print(f"与 {bureau.previous_year or '上'}年数据核对：发现 {len(bureau.bureau_findings)} 个问题（见“跨年度核对”）")
    _bureau_output(bureau, args, spec)
    return EXIT_OK


def cmd_report(args, spec: Spec) -> int:
    if not Path(args.db).exists():
        print(f"错误：数据库 {args.db} 不存在。请先运行 budgetxl collect。", file=sys.stderr)
        return EXIT_FAILED
    _check_previous(args)
    bureau = _bureau(args)
    print(f"{bureau.summary_line()}；汇总使用 {len(bureau.used)} 个单位的最新有效版本。")
    if bureau.bureau_findings:
        print(f"与 {bureau.previous_year or '上'}年数据核对：发现 {len(bureau.bureau_findings)} 个问题（见“跨年度核对”）")
    totals = bureau.totals.get("功能分类（类）")
    if totals is not None and not totals.empty:
        print("按功能分类（类）汇总（万元）：")
        for row in totals.itertuples(index=False):
            print(f"  {row[0]} {row[1]}  合计 {fmt(row[2] or Decimal(0))}  基本支出 {fmt(row[3] or Decimal(0))}  项目支出 {fmt(row[4] or Decimal(0))}（{row[5]} 个单位）")
    _bureau_output(bureau, args, spec)
    return EXIT_OK


def cmd_rules(args, spec: Spec) -> int:
    from .rules.catalogue import entries, markdown

    if args.markdown:
        sys.stdout.write(markdown())
        return EXIT_OK
    for code, entry in entries().items():
        print(f"{code}  {entry.severity.value}  {entry.title}")
    return EXIT_OK


def cmd_dump(args, spec: Spec) -> int:
    from .model_json import decimal_default, disclosure_json

    reading = pipeline.read(args.workbook, spec, reader=args.reader)
    data = disclosure_json(reading.disclosure, spec, reading.findings)
    if args.json:
        import json

        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=decimal_default)
        sys.stdout.write("\n")
        return EXIT_OK
    d = reading.disclosure
    print(f"{d.year or '（年度未填）'}年 {d.department or '（单位名称未填）'}  金额单位：{d.unit}")
    for key, table in d.tables.items():
        counts = {k: len(table.rows_of(k)) for k in ("detail", "subtotal", "total")}
        print(f"  {key} {table.title}: 明细 {counts['detail']} 行，小计 {counts['subtotal']} 行，总计 {counts['total']} 行")
    if reading.findings:
        print(f"读取时发现的问题（{_summary(reading.findings)}）：")
        _print_findings(reading.findings)
    return EXIT_OK


def _bureau_options(p) -> None:
    p.add_argument("--feedback", type=Path, metavar="DIR", help="给每个单位写一份校验反馈（带“校验结果”的工作簿副本和一页反馈说明），内容未变的不重写")
    p.add_argument("--feedback-zip", action="store_true", help="把本次新写入的反馈文件打包为一个 .zip")
    p.add_argument("--previous", type=Path, metavar="上年.db", help="上一年度的数据库：增加上年对比和跨年度核对（Y01–Y05）")


def cmd_serve(args, spec: Spec) -> int:
    """The web page: local (one person, 127.0.0.1) or the bureau's server (--db and --roster)."""
    from .web import LOOPBACK, Config, serve

    if bool(args.db) != bool(args.roster):
        print("错误：财政局模式需要同时指定 --db（数据库）和 --roster（报送名单）；本机模式两者都不要指定。", file=sys.stderr)
        return EXIT_FAILED
    if not args.db and args.host not in LOOPBACK:
        print("错误：本机模式没有登录，只能在 127.0.0.1 上运行。供各单位访问的服务请加 --db 和 --roster（财政局模式）。", file=sys.stderr)
        return EXIT_FAILED
    roster = []
    if args.roster:
        from .collect.roster import read_roster

        roster = read_roster(args.roster)
    config = Config(spec, Path(args.db) if args.db else None, roster, args.max_upload_mb * 1024 * 1024, args.workers, args.https_cookies)
    if args.db:
        from .web.accounts import Accounts

        if not any(u.is_bureau for u in Accounts(args.db).users()):
            print(f"提示：数据库中还没有财政局账户，请先运行 budgetxl users add-bureau 登录名 --db {args.db}", file=sys.stderr)
    where = f"http://{args.host}:{args.port}/"
    print(f"{'财政局模式' if args.db else '本机模式'}：{where}（按 Ctrl+C 停止）", file=sys.stderr)
    serve(config, args.host, args.port, args.open, args.proxy_headers, args.forwarded_allow_ips, args.log_level)
    return EXIT_OK


def cmd_users(args, spec: Spec) -> int:
    """Accounts of the bureau's server: bureau staff, and department accounts issued from the roster."""
    from .web.accounts import AccountError, Accounts, new_password

    if args.users_command == "list" and not Path(args.db).is_file():
        print(f"错误：数据库 {args.db} 不存在。请检查路径（账户与报送数据在同一个数据库中）。", file=sys.stderr)
        return EXIT_FAILED
    accounts = Accounts(args.db)
    try:
        if args.users_command == "add-bureau":
            password = new_password(16)
            accounts.add(args.name, "bureau", password, "财政局", must_change=True)
            print(f"已创建财政局账户：{args.name}")
            print(f"一次性密码：{password}")
            print("首次登录后须设置新密码。")
            return EXIT_OK
        if args.users_command == "issue":
            from .collect.roster import read_roster
            from .model import SheetContent
            from .xlsx_writer import write_workbook

            issued = accounts.issue(read_roster(args.roster), args.reissue)
            if not issued:
                print("名单中的单位都已有账户，没有新发放的账户（重新发放密码请加 --reissue）。")
                return EXIT_OK
            sheet = SheetContent("账户", ("单位名称", "单位编码", "登录名", "一次性密码"), tuple(issued), (40, 16, 16, 20))
            write_workbook([sheet], args.output)
            os.chmod(args.output, 0o600)
            print(f"已发放 {len(issued)} 个单位账户，登录名和一次性密码已写入：{args.output}")
            print("请把各单位的登录名和密码分别交给该单位；首次登录后须设置新密码。发放完毕后请删除该文件。")
            return EXIT_OK
        if args.users_command == "list":
            for u in accounts.users():
                role = "财政局" if u.is_bureau else "单位"
                print(f"{u.login}\t{role}\t{u.department}\t{'待设置新密码' if u.must_change else ''}")
            return EXIT_OK
    except AccountError as exc:
        print(f"错误：{exc}", file=sys.stderr)
    return EXIT_FAILED


def cmd_backup(args, spec: Spec) -> int:
    """A consistent copy of the bureau's database while the server runs."""
    from .web import backup

    if not Path(args.db).is_file():
        print(f"错误：要备份的数据库 {args.db} 不存在。请检查路径。", file=sys.stderr)
        return EXIT_FAILED
    if Path(args.output).resolve() == Path(args.db).resolve():
        print("错误：备份文件不能与数据库相同。", file=sys.stderr)
        return EXIT_FAILED
    path = backup(args.db, args.output)
    print(f"已备份数据库 {args.db} 到 {path}")
    return EXIT_OK


def _add_web_commands(declare) -> None:
    if p := declare("serve", "网页：本机校验页面，或财政局报送服务（--db、--roster）"):
        p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；财政局模式可用 0.0.0.0）")
        p.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        p.add_argument("--open", action="store_true", help="启动后打开浏览器")
        p.add_argument("--db", type=Path, help="财政局模式：SQLite 数据库（与 budgetxl collect 相同）")
        p.add_argument("--roster", type=Path, help="财政局模式：报送名单（.xlsx，含“单位名称”列）")
        p.add_argument("--workers", type=int, default=2, help="处理工作簿的进程数（默认 2）")
        p.add_argument("--max-upload-mb", type=int, default=20, help="上传文件大小上限（MB，默认 20）")
        p.add_argument("--proxy-headers", action="store_true", help="在反向代理之后：使用 X-Forwarded-For/-Proto")
        p.add_argument("--forwarded-allow-ips", default="127.0.0.1", help="信任其 X-Forwarded-* 的代理地址（默认 127.0.0.1）")
        p.add_argument("--https-cookies", action="store_true", help="会话 Cookie 只经 HTTPS 发送（在 HTTPS 反向代理之后使用）")
        p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
        p.set_defaults(func=cmd_serve)

    if p := declare("users", "财政局模式的账户：财政局账户，按名单发放单位账户"):
        users = p.add_subparsers(dest="users_command", required=True, metavar="子命令")
        q = users.add_parser("add-bureau", help="新建财政局账户（打印一次性密码）")
        q.add_argument("name", help="登录名")
        q.add_argument("--db", required=True, type=Path)
        q.set_defaults(func=cmd_users)
        q = users.add_parser("issue", help="按报送名单发放单位账户，一次性密码写入工作簿")
        q.add_argument("--roster", required=True, type=Path)
        q.add_argument("--db", required=True, type=Path)
        q.add_argument("-o", "--output", required=True, type=Path, help="账户工作簿（.xlsx）")
        q.add_argument("--reissue", action="store_true", help="已有账户也重新发放一次性密码")
        q.set_defaults(func=cmd_users)
        q = users.add_parser("list", help="列出账户")
        q.add_argument("--db", required=True, type=Path)
        q.set_defaults(func=cmd_users)

    if p := declare("backup", "在线备份财政局数据库（服务运行时也可以）"):
        p.add_argument("--db", required=True, type=Path)
        p.add_argument("-o", "--output", required=True, type=Path, help="备份文件")
        p.set_defaults(func=cmd_backup)


@lru_cache(maxsize=None)
def _help_width() -> int:
    """The width argparse wraps help to (the terminal's, less 2), asked once:
    argparse would ask for every option declared. As ``shutil.get_terminal_size``
    (``$COLUMNS``, else the terminal of stdout, else 80) without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


# argparse's messages stay English: _ARGPARSE_MESSAGES below translates them to
# Chinese by their English text, and a gettext catalogue would change that text
# (asking gettext for one also costs every start-up a locale lookup).
argparse._ = lambda message: message
argparse.ngettext = lambda singular, plural, n: singular if n == 1 else plural


class _ChineseHelp(argparse.HelpFormatter):
    def __init__(self, prog, **kwargs):
        kwargs.setdefault("width", _help_width())
        super().__init__(prog, **kwargs)

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


_ARGPARSE_MESSAGES = (  # argparse's English messages, as a clerk should read them (compiled only on an error)
    (r"the following arguments are required: (.+)", "缺少参数：{0}"),
    (r"argument (\S+): invalid choice: (\S+) \(choose from (.+)\)", "参数 {0} 的值 {1} 无效，可选：{2}"),
    (r"argument (\S+): invalid (\w+) value: (\S+)", "参数 {0} 的值 {2} 格式不对"),
    (r"argument (\S+): expected one argument", "参数 {0} 后面需要一个值"),
    (r"argument (\S+): not allowed with argument (\S+)", "参数 {0} 不能与 {1} 同时使用"),
    (r"one of the arguments (.+) is required", "需要下列参数之一：{0}"),
    (r"unrecognized arguments: (.+)", "无法识别的参数：{0}"),
    (r"argument (\S+): (.+)", "参数 {0}：{1}"),  # a value our own type check refused (its text is Chinese)
)


class _Parser(argparse.ArgumentParser):
    """argparse speaking Chinese: help headings, usage and error messages."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _ChineseHelp)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str):
        for pattern, chinese in _ARGPARSE_MESSAGES:
            m = re.search(pattern, message)
            if m:
                message = chinese.format(*m.groups())
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"错误：{message}。运行 {self.prog} --help 查看用法。\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line. With ``command``, only that command is declared (when
    it names one; otherwise every command, for argparse's "invalid choice"): a
    start-up does not pay for the parsers of twenty others. Without, every
    command is declared, as ``budgetxl --help`` lists them."""
    parser = _Parser(prog="budgetxl", description="部门预算公开：模板、小计、校验、情况说明与公开文件")
    parser.add_argument("--spec", default=DEFAULT_SPEC, help="模板规格（默认 %(default)s，或 .toml 文件路径）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    def declare(name: str, help: str) -> argparse.ArgumentParser | None:
        """The parser of a command, to declare its options on, when it is wanted."""
        return sub.add_parser(name, help=help) if command is None or command == name else None

    if p := declare("template", "生成标准模板工作簿"):
        p.add_argument("-o", "--output", required=True, type=Path, help="输出的 .xlsx 文件（--xlsm 时为 .xlsm）")
        p.add_argument("--xlsm", action="store_true", help="生成启用宏的工作簿：含按钮（功能区选项卡）、xlwings 模块和 xlwings.conf 工作表，不需要 Excel")
        p.set_defaults(func=cmd_template)

    if p := declare("fill", "根据数据文件（TOML/JSON）填写模板"):
        p.add_argument("data", type=Path, help="数据文件，如 examples/akto_2026.toml")
        p.add_argument("-o", "--output", required=True, type=Path, help="输出的 .xlsx 文件")
        p.add_argument("--template", type=Path, help="使用指定模板（默认按规格新建）")
        p.set_defaults(func=cmd_fill)

    if p := declare("subtotal", "计算各表小计、总计和表1、表4"):
        p.add_argument("workbook", type=Path)
        target = p.add_mutually_exclusive_group(required=True)
        target.add_argument("-o", "--output", type=Path, help="写入新文件（原文件不变）")
        target.add_argument("--in-place", action="store_true", help="直接修改原文件")
        p.set_defaults(func=cmd_subtotal)

    if p := declare("check", "校验：表内、表间勾稽关系和说明数据（有“错误”时退出码为 1）"):
        p.add_argument("workbook", type=Path)
        p.add_argument("--json", action="store_true", help="输出 JSON")
        p.add_argument("--select", help="只运行这些规则（代码或前缀，逗号分隔，如 B,C01）")
        p.add_argument("--ignore", help="不运行这些规则（代码或前缀，逗号分隔）")
        p.add_argument("--annotate", type=Path, metavar="OUT.xlsx", help="另存一份带“校验结果”工作表、标出问题单元格的副本")
        p.add_argument("--min-severity", choices=("错误", "警告", "提示"), help="只列出不低于该级别的问题（如 警告：不列“提示”）；--json 仍含全部")
        p.add_argument("--functional-codes", type=Path, metavar="CSV", help="使用指定的功能分类代码表（code,level,name,parent）")
        p.add_argument("--economic-codes", type=Path, metavar="CSV", help="使用指定的经济分类代码表")
        p.set_defaults(func=cmd_check)

    if p := declare("narrate", "生成情况说明"):
        p.add_argument("workbook", type=Path)
        p.add_argument("--format", choices=("text", "json", "markdown"), default="text")
        p.add_argument("--templates", type=Path, metavar="DIR", help="用该目录中的同名模板替换内置段落模板")
        target = p.add_mutually_exclusive_group()
        target.add_argument("--write", type=Path, metavar="OUT.xlsx", help="另存一份带“情况说明”工作表的副本")
        target.add_argument("--in-place", action="store_true", help="把“情况说明”工作表写入原文件")
        p.set_defaults(func=cmd_narrate)

    if p := declare("rollover", "由上一年度工作簿生成新年度工作簿（本年数转为上年数）"):
        p.add_argument("workbook", type=Path, help="上一年度工作簿")
        p.add_argument("-o", "--output", required=True, type=Path, help="新年度工作簿")
        p.set_defaults(func=cmd_rollover)

    if p := declare("convert", "批量生成公开文件（Word、PDF、Excel）"):
        p.add_argument("inputs", nargs="+", help="工作簿或目录（目录下所有 .xlsx）")
        p.add_argument("-o", "--output", required=True, type=Path, help="输出目录")
        p.add_argument("--to", default="docx,pdf,xlsx", help="输出格式，逗号分隔（默认 docx,pdf,xlsx）")
        p.add_argument("-j", "--jobs", type=_jobs, default=1, help="并行进程数（默认 1）")
        p.add_argument("--force", action="store_true", help="有“错误”的工作簿也转换")
        p.add_argument("--overwrite", action="store_true", help="覆盖已存在的公开文件")
        p.set_defaults(func=cmd_convert)

    if p := declare("excel", "Excel 按钮"):
        excel_sub = p.add_subparsers(dest="excel_command", required=True, metavar="子命令")
        q = excel_sub.add_parser("setup", help="复制随包提供的带按钮工作簿（.xlsm），写入本机 Python 路径")
        q.add_argument("-o", "--output", type=Path, default=Path("部门预算公开.xlsm"), help="输出的 .xlsm 文件（默认 %(default)s）")
        q.add_argument("--interpreter", help="按钮使用的 python 完整路径（默认：运行本命令的 Python）")
        q.add_argument("--target", choices=("win", "mac"), help="写入 Interpreter_Win 还是 Interpreter_Mac（默认按本机系统）")
        q.set_defaults(func=cmd_excel_setup)
        q = excel_sub.add_parser("configure", help="修改 .xlsm 工作簿 xlwings.conf 工作表中的 Python 路径（宏和按钮保留）")
        q.add_argument("workbook", type=Path, help="启用宏的工作簿（.xlsm）")
        q.add_argument("--interpreter", required=True, help="python 的完整路径，如 C:\\Python311\\python.exe")
        q.add_argument("--target", choices=("win", "mac"), default="win", help="Interpreter_Win（默认）或 Interpreter_Mac")
        q.add_argument("-o", "--output", type=Path, help="另存为（默认直接修改原文件）")
        q.set_defaults(func=cmd_excel_configure)

    if p := declare("collect", "财政局：收取各单位工作簿，校验、入库，生成报送状态和汇总"):
        p.add_argument("inputs", nargs="+", help="收件目录或工作簿")
        p.add_argument("--db", required=True, type=Path, help="SQLite 数据库文件（不存在则新建）")
        p.add_argument("--roster", type=Path, help="报送名单（.xlsx，含“单位名称”列，可有“单位编码”“截止日期”列）")
        p.add_argument("-o", "--output", type=Path, help="报送状态与汇总工作簿（.xlsx）")
        p.add_argument("-j", "--jobs", type=_jobs, default=1, help="并行进程数")
        p.add_argument("--scheduler", help="Dask 分布式调度器地址（如 tcp://10.0.0.5:8786），在集群上处理")
        p.add_argument("--year", type=int, help="汇总年度（默认取多数工作簿的年度）")
        _bureau_options(p)
        p.set_defaults(func=cmd_collect)

    if p := declare("report", "财政局：从数据库生成报送状态和汇总"):
        p.add_argument("--db", required=True, type=Path)
        p.add_argument("--roster", type=Path)
        p.add_argument("-o", "--output", type=Path, help="报送状态与汇总工作簿（.xlsx）")
        p.add_argument("-j", "--jobs", type=_jobs, default=1, help="写校验反馈的并行进程数")
        p.add_argument("--year", type=int)
        _bureau_options(p)
        p.set_defaults(func=cmd_report)

    if p := declare("rules", "列出全部校验规则"):
        p.add_argument("--markdown", action="store_true", help="输出规则目录（docs/rules.md）")
        p.set_defaults(func=cmd_rules)

    if p := declare("dump", "输出读取到的数据模型"):
        p.add_argument("workbook", type=Path)
        p.add_argument("--json", action="store_true", help="输出 JSON（格式见 README）")
        p.add_argument("--reader", choices=("calamine", "openpyxl"), default="calamine")
        p.set_defaults(func=cmd_dump)

    _add_web_commands(declare)
    if not sub.choices:  # the word names no command: declare them all, for argparse's message
        return build_parser()
    return parser


def _command_word(argv: list[str]) -> str | None:
    """The command an argument list names: its first word after any --spec NAME
    (or --spec=NAME, or an abbreviation argparse accepts for it). None when any
    other option comes first ("-h" lists every command, "--" and "-" are
    argparse's own cases): then no guess is taken."""
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word
        name, equals, _ = word.partition("=")
        if len(name) <= 2 or not "--spec".startswith(name):
            return None
        if not equals:
            next(words, None)  # --spec NAME
    return None


# ------------------------------------------------------------------ paths and the environment (issue 13)


class _reporting_cleanings:
    """Around a write: text that had to be cleaned to be written (P14, ``writable``) is reported on stderr."""

    def __enter__(self):
        from .writable import recording

        self._ctx = recording()
        self._cleaned = self._ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._ctx.__exit__(*exc)
        if exc[0] is None and self._cleaned:
            from .writable import findings

            print(f"写入时清理了 {len(self._cleaned)} 处无法写入的文字：", file=sys.stderr)
            _print_findings(findings(self._cleaned), sys.stderr)


def _print_unopened(run) -> None:
    """collect: the files that could not even be opened, one row each."""
    for path, why in run.failed:
        print(f"  无法读取  {path}  {why}")


def _validate_paths(args) -> str | None:
    """Every path argument checked before any work: the problem in Chinese, or None."""
    from .paths import path_problems

    inputs = [getattr(args, name) for name in ("workbook", "data", "template", "roster", "functional_codes", "economic_codes", "previous") if getattr(args, name, None)]
    if args.command in ("template", "excel"):
        inputs = []  # template/excel: -o is the only path
    outputs = [getattr(args, name) for name in ("output", "annotate", "write") if getattr(args, name, None)]
    if args.command == "convert":
        outputs = []  # a folder: checked below
        if Path(args.output).suffix.lower() in (".pdf", ".docx", ".xlsx", ".xls", ".zip") and not Path(args.output).is_dir():
            return f"convert 的 -o 是输出文件夹，文件名由单位名称生成；{args.output} 看起来是一个文件名。请给出文件夹，如 -o 公开文件/。"
    workbooks = [Path(o) for name in ("output", "annotate", "write") if (o := getattr(args, name, None))
                 and args.command in ("template", "fill", "subtotal", "check", "narrate", "rollover")]
    wrong = [str(o) for o in workbooks if o.suffix.lower() not in (".xlsx", ".xlsm")]
    if wrong:
        return f"输出文件 {wrong[0]} 应以 .xlsx（或 .xlsm）结尾：budgetxl 写出的是 Excel 工作簿。"
    return path_problems(
        inputs=inputs,
        outputs=outputs,
        batch=list(getattr(args, "inputs", None) or []),
        db=getattr(args, "db", None),
        db_must_exist=args.command == "report",
        out_dir=args.output if args.command == "convert" else None,
        in_place=bool(getattr(args, "in_place", False)),
        folders=[args.templates] if getattr(args, "templates", None) else [],
        offers_in_place=hasattr(args, "in_place"),
    )


def _environment_error(exc: BaseException) -> str | None:
    """A message for failures of the environment (disk, permissions, database lock), or None."""
    import sqlite3

    from .io_atomic import OutputFailed, environment_message

    if isinstance(exc, OutputFailed):
        return exc.message
    if isinstance(exc, sqlite3.Error):
        text = str(exc)
        if "locked" in text or "busy" in text:
            from .collect.store import BUSY_SECONDS

            return f"数据库正被另一个程序使用，等待 {BUSY_SECONDS} 秒后仍无法写入（{text}）。请稍后重试。"
        if "not a database" in text or "malformed" in text:
            return f"数据库文件已损坏或不是 budgetxl 数据库（{text}）。"
        return f"数据库无法读写：{text}。请检查磁盘空间和文件权限。"
    if isinstance(exc, OSError) and exc.errno is not None:
        name = exc.filename
        reading = bool(name) and os.path.exists(name) and not os.path.isdir(name) and not os.access(name, os.R_OK)
        return environment_message(exc, name, reading=reading)
    return None


def main(argv: list[str] | None = None) -> int:
    return _run(_parse(sys.argv[1:] if argv is None else argv))


def _parse(argv: list[str]) -> argparse.Namespace:
    command = _command_word(argv)
    args = build_parser(command).parse_args(argv)
    if args.command != command:  # not the word we guessed: parse with every option declared
        args = build_parser().parse_args(argv)
    return args


def _run(args: argparse.Namespace) -> int:
    for name in ("stdout", "stderr"):  # started with the stream closed (`>&-`): Python has None there
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # the work is done, its output goes nowhere
    try:
        return _run_command(args)
    finally:
        db = getattr(args, "db", None)
        if db is not None and args.command != "serve":
            from .collect.store import tidy

            tidy(db)


def _run_command(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.spec)
    except FileNotFoundError:
        print(f"错误：找不到模板规格 {args.spec}。内置规格为 {DEFAULT_SPEC}，其他规格请给出 .toml 文件的路径。", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, ValueError, KeyError) as exc:
        print(f"错误：无法读取模板规格 {args.spec}（{type(exc).__name__}：{exc}）。请检查该规格文件。", file=sys.stderr)
        return EXIT_FAILED
    try:
        problem = _validate_paths(args)  # inside: a name the file system refuses (too long …) is an answer too
        if problem:
            print(f"错误：{problem}", file=sys.stderr)
            return EXIT_FAILED
        return args.func(args, spec)
    except WorkbookError as exc:
        print(f"错误：{exc.path}：{exc.message}", file=sys.stderr)
    except (pipeline.OutputError, FillError, RosterError, ConfigureError, CodeListError, TemplateError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
    except BrokenPipeError:  # output piped into head: not an error; the status is the command's own
        try:  # what is still buffered goes nowhere, so the exit does not fail on it
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.stderr.close()
        return getattr(args, "exit_code", EXIT_OK)
    except KeyboardInterrupt:
        if getattr(args, "command", "") == "collect":
            print("已中断（Ctrl-C）。已收取的报送完整保存在数据库中；重新运行 collect 会跳过已收取的文件，只读取其余的。", file=sys.stderr)
        else:
            print("已中断（Ctrl-C）。已完成的输出文件完整可用，未完成的临时文件已删除；重新运行会跳过已完成的文件。", file=sys.stderr)
        return 130
    except Exception as exc:  # the environment (disk, permissions …), or a bug of ours: say so plainly, no traceback
        message = _environment_error(exc)
        if message:
            print(f"错误：{message}", file=sys.stderr)
            return EXIT_FAILED
        if os.environ.get("BUDGETXL_DEBUG"):
            raise
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            f"内部错误：{type(exc).__name__}（{os.path.basename(where.filename)} 第{where.lineno}行）。这是 budgetxl 的问题，"
            "请把命令和输入文件发给维护人员；设置环境变量 BUDGETXL_DEBUG=1 可看到详细信息。",
            file=sys.stderr,
        )
    return EXIT_FAILED


def run() -> None:
    """The ``budgetxl`` command (and ``python -m budgetxl.cli``).

    A check without --annotate ends with ``os._exit`` once its output is
    flushed: it has written no file and started no thread, and the one exit
    handler it may have (``records.save``, after a first run compiled its
    record classes) is called here, so the interpreter's teardown (freeing
    every object one by one, a tenth of the run) has nothing to do for it.
    Any other command, or a flush that fails (a closed pipe), exits the
    ordinary way."""
    args = _parse(sys.argv[1:])
    quick = args.command == "check" and not args.annotate
    if quick:
        # a check is a short process whose objects (cells, findings) are acyclic and
        # live to its end: at the default first threshold (700 new containers) the
        # cycle collector would scan them a few hundred times and free nothing. Not
        # for the other commands: the server lives long, and sqlite3 connections
        # are freed only by the cycle collector.
        import gc

        gc.set_threshold(100_000, 10, 10)
    code = _run(args)
    if quick:
        from . import records

        records.save()
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except (OSError, ValueError):
            pass  # the ordinary exit reports it as Python always does
        else:
            os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
