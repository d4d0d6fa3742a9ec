import ChartSyncCore

/// What one chart's templates see: its values, its Chart.yaml, its enabled subcharts' own scopes
/// (`.Subcharts`), and the named templates of the whole (enabled) chart tree.
public struct TemplateContext: Sendable {
    /// The chart's values as Helm computes them with default values.
    let values: ValueNode
    /// The chart's Chart.yaml.
    let metadata: ChartMetadata
    /// Named templates by name (Helm shares them across the chart and its subcharts).
    public let defines: [String: DefinedTemplate]
    /// `.Subcharts`: each enabled subchart's scope by its instance name (its alias when it has
    /// one, as Helm names it), with the subchart's Chart.yaml (`name` being that instance name, as
    /// Helm renames an aliased chart) and its values (the parent's section under that name).
    let subcharts: [String: TemplateContext]

    /// Creates a context; `subcharts` are the enabled subcharts' contexts by instance name.
    public init(values: ValueNode, metadata: ChartMetadata, defines: [String: DefinedTemplate],
                subcharts: [String: TemplateContext] = [:]) {
        self.values = values
        self.metadata = metadata
        self.defines = defines
        self.subcharts = subcharts
    }

    /// The context of the subchart at `path` (instance names below this chart); this context
    /// for an empty path; nil when a step is not an enabled subchart.
    func context(at path: [String]) -> TemplateContext? {
        var current = self
        for name in path {
            guard let next = current.subcharts[name] else { return nil }
            current = next
        }
        return current
    }
}

/// A named template (`define` or `block`) and the file it is in.
public struct DefinedTemplate: Sendable {
    /// The entry name of the file that defines it.
    public let file: String
    /// Its body.
    public let body: [GoTemplate.Node]

    /// Creates a named template.
    public init(file: String, body: [GoTemplate.Node]) {
        self.file = file
        self.body = body
    }
}
