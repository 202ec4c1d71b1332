#!/usr/bin/env bash
# Installs what budgetxl needs on a clean Debian machine with Python 3.11:
# a virtual environment in .venv with the package and its test tools, and the
# system packages for printing/converting (LibreOffice, Chinese fonts, poppler).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "需要 Python 3.11 或更高版本（找不到 $PY）。" >&2; exit 1
fi
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "需要 Python 3.11 或更高版本，当前：$("$PY" --version)" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}
apt_updated=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq || return 1; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. the virtual environment
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    echo "安装 python3-venv …"
    apt_install python3-venv || { echo "无法创建虚拟环境：请安装 python3-venv。" >&2; exit 1; }
    "$PY" -m venv .venv
  fi
fi
# a C compiler, expat's and Python's headers: pip builds budgetxl._sheetscan, the fast
# pass of the check that runs before any reader (without them the slower Python pass runs)
headers=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
build=()
command -v cc >/dev/null 2>&1 || build+=(gcc libc6-dev)
[ -f /usr/include/expat.h ] || build+=(libexpat1-dev)
[ -f "$headers/Python.h" ] || build+=(python3-dev)
if [ ${#build[@]} -gt 0 ]; then
  echo "安装编译工具：${build[*]} …"
  apt_install "${build[@]}" || echo "警告：无法安装 ${build[*]}，读取前的安全检查将使用较慢的纯 Python 版本。" >&2
fi
stamp=.venv/.budgetxl-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ] || [ src/budgetxl/_sheetscan.c -nt "$stamp" ]; then
  echo "安装 Python 依赖到 .venv …"
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e '.[test]'; } > .venv/pip.log 2>&1; then
    cat .venv/pip.log >&2; echo "安装 Python 依赖失败（详见上面的输出）。" >&2; exit 1
  fi
  touch "$stamp"
fi

# 2. system packages: LibreOffice (recalculate, convert to PDF; python3-uno keeps one running for a batch),
#    CJK fonts, pdftotext, Chromium
missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc libreoffice-writer)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -i "Noto Serif CJK" >/dev/null || missing+=(fonts-noto-cjk)  # no -q: grep -q + pipefail = SIGPIPE
fc-list 2>/dev/null | grep -i "AR PL UKai" >/dev/null || missing+=(fonts-arphic-ukai)  # 楷体 for the 二级标题
# a persistent LibreOffice for batches of PDFs is driven over UNO from the system Python
/usr/bin/python3 -c 'import uno' >/dev/null 2>&1 || missing+=(python3-uno)
# Chromium: the web page tests drive it through Playwright (executable_path=/usr/bin/chromium);
# Playwright's own browser download is not used.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "安装系统软件包：${missing[*]} （约 1 分钟）…"
  apt_install "${missing[@]}" || echo "警告：无法安装 ${missing[*]}（需要 root 或 sudo），PDF 相关功能和网页测试将不可用。" >&2
fi
