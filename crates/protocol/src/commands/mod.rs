//! One module per EAS command (MS-ASCMD 2.2.1): a typed request parsed from the
//! command's element tree and a typed response written to one.
