Attribute VB_Name = "budgetxl"
' budgetxl: the buttons of the department budget disclosure workbook.
' Each macro runs one function of budgetxl.excel through xlwings' RunPython
' (the xlwings module in this workbook). The ribbon tab (customUI) calls the
' Ribbon* callbacks; the same actions are the Budgetxl* macros in Alt+F8.
' This file is ASCII with CRLF line endings on purpose: the VBA editor imports
' .bas files in the system ANSI code page (cp936 on Chinese Windows), so every
' Chinese text the user sees comes from Python, never from this module.
Option Explicit

Public Sub BudgetxlSubtotal()
    RunPython "import budgetxl.excel as bx; bx.subtotal()"
End Sub

Public Sub BudgetxlCheck()
    RunPython "import budgetxl.excel as bx; bx.check()"
End Sub

Public Sub BudgetxlNarrate()
    RunPython "import budgetxl.excel as bx; bx.narrate()"
End Sub

Public Sub BudgetxlExport()
    RunPython "import budgetxl.excel as bx; bx.export()"
End Sub

Public Sub BudgetxlClearMarks()
    RunPython "import budgetxl.excel as bx; bx.clear_marks()"
End Sub

' Ribbon callbacks: onAction of the buttons on the ribbon tab (customUI/customUI.xml)

Public Sub RibbonSubtotal(control As IRibbonControl)
    BudgetxlSubtotal
End Sub

Public Sub RibbonCheck(control As IRibbonControl)
    BudgetxlCheck
End Sub

Public Sub RibbonNarrate(control As IRibbonControl)
    BudgetxlNarrate
End Sub

Public Sub RibbonExport(control As IRibbonControl)
    BudgetxlExport
End Sub

Public Sub RibbonClearMarks(control As IRibbonControl)
    BudgetxlClearMarks
End Sub
