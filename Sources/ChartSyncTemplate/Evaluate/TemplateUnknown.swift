/// Why a template expression could not be evaluated with default values alone.
public struct TemplateUnknown: Error, Sendable {
    /// A short reason for warnings, e.g. "calls tpl".
    public let reason: String
    /// Creates an unknown with its reason.
    public init(_ reason: String) { self.reason = reason }
}
