/// An expression of a template action: a pipeline of commands, as text/template parses them.
public indirect enum TemplateExpression: Sendable {
    /// `.a.b` (from dot), `$.a.b` / `$x.a.b` (from a variable; `$` is the root), `(pipeline).a.b`.
    case field(base: FieldBase, names: [String])
    /// A string literal.
    case string(String)
    /// A number literal, as written.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `nil`.
    case null
    /// A function call `name arg...` (also a bare function name with no arguments).
    case call(String, [TemplateExpression])
    /// `a | f x | g`: each stage gets the previous result as its last argument.
    case pipe([TemplateExpression])

    /// Where a field chain starts.
    public enum FieldBase: Sendable {
        /// `.`.
        case dot
        /// A variable, with its `$`.
        case variable(String)
        /// A parenthesized pipeline.
        case expression(TemplateExpression)
    }
}
