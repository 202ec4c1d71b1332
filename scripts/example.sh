#!/usr/bin/env bash
# The main job on the bundled example (2026 阿克陶县社会保险中心):
# template → fill → subtotal → dump. Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
B=.venv/bin/budgetxl
mkdir -p out
echo "== 1. 生成标准模板"
$B template -o out/budget_template.xlsx
echo "== 2. 按示例数据填写模板"
$B fill examples/akto_2026.toml -o out/akto_2026.xlsx --template out/budget_template.xlsx
echo "== 3. 计算小计"
$B subtotal out/akto_2026.xlsx -o out/akto_2026_小计.xlsx
echo "== 4. 读取结果"
$B dump out/akto_2026_小计.xlsx
$B dump out/akto_2026_小计.xlsx --json > out/akto_2026.json
echo
echo "完成。输出文件在 $(pwd)/out/："
ls -1 out
