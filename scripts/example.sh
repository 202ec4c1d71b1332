#!/usr/bin/env bash
# The main job on the bundled example (2026 阿克陶县社会保险中心):
# template → fill → check → subtotal → narrative → disclosure files (docx, pdf, xlsx). Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
B=.venv/bin/budgetxl
mkdir -p out
echo "== 1. 生成标准模板"
$B template -o out/budget_template.xlsx
echo "== 2. 按示例数据填写模板"
$B fill examples/akto_2026.toml -o out/akto_2026.xlsx --template out/budget_template.xlsx
echo "== 3. 校验（示例就是公开文件的数据，其中的真实问题会被找出）"
status=0
$B check out/akto_2026.xlsx --annotate out/akto_2026_校验结果.xlsx || status=$?
if [ "$status" = 1 ]; then
  echo "（退出码 1：有“错误”级问题，见 out/akto_2026_校验结果.xlsx 的“校验结果”工作表）"
elif [ "$status" != 0 ]; then
  exit "$status"
fi
echo "== 4. 计算小计"
$B subtotal out/akto_2026.xlsx -o out/akto_2026_小计.xlsx
echo "== 5. 生成情况说明"
$B narrate out/akto_2026_小计.xlsx --write out/akto_2026_说明.xlsx > out/情况说明.txt
$B narrate out/akto_2026_小计.xlsx --format markdown > out/情况说明.md
head -n 12 out/情况说明.txt
echo "……（全文见 out/情况说明.txt，工作表版见 out/akto_2026_说明.xlsx 的“情况说明”）"
echo "== 6. 生成公开文件（Word、PDF、Excel）"
echo "（示例数据含公开文件本身的一处科目名称错误，正式使用时应先改正；这里用 --force 照常生成）"
$B convert out/akto_2026_小计.xlsx -o out/公开文件 --force --overwrite
echo "== 7. 数据模型（JSON）"
$B dump out/akto_2026_小计.xlsx --json > out/akto_2026.json
echo "已写入 out/akto_2026.json"
echo
echo "完成。输出文件在 $(pwd)/out/："
ls -1 out out/公开文件
