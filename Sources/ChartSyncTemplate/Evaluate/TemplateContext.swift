import ChartSyncCore

/// What one chart's templates see: its values, its Chart.yaml, and the named templates of the
/// whole (enabled) chart tree.
public struct TemplateContext: Sendable {
    /// The chart's values as Helm computes them with default values.
    let values: ValueNode
    /// The chart's Chart.yaml.
    let metadata: ChartMetadata
    /// Named templates by name (Helm shares them across the chart and its subcharts).
    public let defines: [String: DefinedTemplate]

    /// Creates a context.
    public init(values: ValueNode, metadata: ChartMetadata, defines: [String: DefinedTemplate]) {
        self.values = values
        self.metadata = metadata
        self.defines = defines
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
