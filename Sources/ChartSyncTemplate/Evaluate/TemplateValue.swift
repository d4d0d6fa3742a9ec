/// What a template expression evaluates to, as far as image discovery can know it without
/// rendering the chart.
public enum TemplateValue: Sendable {
    /// The chart's top-level context (`.` in a template file, `$`).
    case root
    /// `.Chart`.
    case chart
    /// `.Subcharts` of the chart at `path` (instance names below the chart whose templates are
    /// evaluated; empty for that chart itself).
    case subcharts(path: [String])
    /// An enabled subchart's own top-level scope (`.Subcharts.NAME`): `path` names it from the
    /// chart whose templates are evaluated down.
    case subchart(path: [String])
    /// `.Chart` of the subchart at `path`.
    case subchartChart(path: [String])
    /// A node of the chart's values; `path` is its dotted key path (`""` for `.Values` itself).
    case node(ValueNode, path: String)
    /// A key of `.Values` that does not exist (renders as nothing, is false).
    case missing(path: String)
    /// A string.
    case string(String)
    /// A boolean.
    case bool(Bool)
    /// A number, as written.
    case number(String)
    /// `nil`.
    case null
    /// Something not known without rendering (a release name, a loop variable...); when it stands
    /// for a part of `.Values`, `path` says which.
    case opaque(path: String?)
}
