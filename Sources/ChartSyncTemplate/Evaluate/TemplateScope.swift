/// Variables and `.` at some point of a template.
public struct TemplateScope: Sendable {
    /// The value of `.`.
    public var dot: TemplateValue
    /// Variables by name with their `$` (`$` itself is the template's data).
    public var variables: [String: TemplateValue]
    /// Names declared (`:=`) at this level: they end with it.
    private(set) var declared: Set<String> = []
    /// Names of enclosing levels assigned (`=`) at this level: the assignment outlives it.
    private(set) var assigned: Set<String> = []

    /// A scope with `dot` and `variables` and nothing declared or assigned yet.
    public init(dot: TemplateValue, variables: [String: TemplateValue]) {
        self.dot = dot
        self.variables = variables
    }

    /// The scope at the top of a template file of the chart.
    public static let top = TemplateScope(dot: .root, variables: ["$": .root])

    /// A scope for the body of a control structure inside this one.
    public func entering() -> TemplateScope {
        var inner = self
        inner.declared = []
        inner.assigned = []
        return inner
    }

    /// Takes back the assignments `inner` made to this scope's variables; when the body may or
    /// may not have run (`certain` false), those variables become unknown.
    public mutating func leave(_ inner: TemplateScope, certain: Bool = true) {
        for name in inner.assigned where variables[name] != nil {
            variables[name] = certain ? inner.variables[name] : .opaque(path: nil)
            if !declared.contains(name) { assigned.insert(name) }
        }
    }

    /// Declares (`:=`) or assigns (`=`) a variable.
    public mutating func set(_ name: String, _ value: TemplateValue, declaring: Bool) {
        variables[name] = value
        if declaring {
            declared.insert(name)
            assigned.remove(name)
        } else if !declared.contains(name) {
            assigned.insert(name)
        }
    }
}
