Attribute VB_Name = "budgetxl"
' budgetxl 部门预算公开按钮
' 每个按钮调用 Python（xlwings RunPython）中 budgetxl.excel 的一个函数。
' 需要：pip install budgetxl xlwings；Excel 中引用 xlwings（加载项或独立模块），
' 并在“xlwings.conf”工作表或 xlwings 加载项中设置 Interpreter（Python 路径）。
Option Explicit

' 计算小计：计算各表类、款、总计和表1、表4，只写计算单元格
Public Sub BudgetxlSubtotal()
    RunPython "import budgetxl.excel as bx; bx.subtotal()"
End Sub

' 校验：生成“校验结果”工作表，标出有问题的单元格，选中第一个错误
Public Sub BudgetxlCheck()
    RunPython "import budgetxl.excel as bx; bx.check()"
End Sub

' 生成说明：生成“情况说明”工作表（一段一行，可修改）
Public Sub BudgetxlNarrate()
    RunPython "import budgetxl.excel as bx; bx.narrate()"
End Sub

' 导出公开文件：在工作簿所在文件夹生成 Word、PDF 和公开用 Excel
Public Sub BudgetxlExport()
    RunPython "import budgetxl.excel as bx; bx.export()"
End Sub

' 清除标记：去掉“校验”标在单元格上的颜色
Public Sub BudgetxlClearMarks()
    RunPython "import budgetxl.excel as bx; bx.clear_marks()"
End Sub

' 在当前工作簿的“填表说明”工作表上放置五个按钮（运行一次即可）
Public Sub BudgetxlAddButtons()
    Dim ws As Worksheet, captions As Variant, macros As Variant, i As Integer, b As Button
    Set ws = ThisWorkbook.Worksheets("填表说明")
    captions = Array("计算小计", "校验", "生成说明", "导出公开文件", "清除标记")
    macros = Array("BudgetxlSubtotal", "BudgetxlCheck", "BudgetxlNarrate", "BudgetxlExport", "BudgetxlClearMarks")
    For i = 0 To 4
        Set b = ws.Buttons.Add(ws.Range("C2").Left + i * 110, ws.Range("C2").Top, 100, 28)
        b.Caption = captions(i)
        b.OnAction = macros(i)
    Next i
End Sub
