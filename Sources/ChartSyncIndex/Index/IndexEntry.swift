import ChartSyncCore

/// One chart version's entry in an index, decoded with Helm's field set and types
/// (chart metadata plus urls, created, removed, digest and the legacy fields Helm accepts).
struct IndexEntry {
    var name = ""
    var version = ""
    var apiVersion = ""
    var appVersion: String?
    var description: String?
    var digest: String?
    var urls: [String] = []
    var created: String?
    var deprecated = false
    var type: String?
    var kubeVersion: String?
    var maintainerNames: [String?] = []
    var dependencies: [(name: String, alias: String)?] = []

    private static let stringFields: Set<String> = [
        "home", "icon", "condition", "tags", "checksum", "engine", "tillerVersion", "url",
    ]
    private static let stringListFields: Set<String> = ["sources", "keywords"]

    /// Decodes an entry; throws for unknown fields (when strict) and wrongly typed values.
    init(_ fields: IndexFields, strict: Bool) throws(YAMLError) {
        for (key, value) in try fields.pairs() {
            switch key {
            case "name": name = try value.string() ?? ""
            case "version": version = try value.string() ?? ""
            case "apiVersion": apiVersion = try value.string() ?? ""
            case "appVersion": appVersion = try value.string()
            case "description": description = try value.string()
            case "digest": digest = try value.string()
            case "urls": urls = try value.strings()
            case "created": created = try value.string()
            case "deprecated": deprecated = try value.bool()
            case "removed": _ = try value.bool()
            case "type": type = try value.string()
            case "kubeVersion": kubeVersion = try value.string()
            case "annotations": _ = try value.stringMap()
            case "maintainers":
                for item in try value.list() {
                    if item.node.isNull {
                        maintainerNames.append(nil)
                        continue
                    }
                    var maintainerName: String?
                    for (mkey, mvalue) in try item.pairs() {
                        switch mkey {
                        case "name": maintainerName = try mvalue.string()
                        case "email", "url": _ = try mvalue.string()
                        default: if strict { throw mvalue.error("unknown field \"\(mkey)\" in \(item.path)") }
                        }
                    }
                    maintainerNames.append(maintainerName ?? "")
                }
            case "dependencies":
                for item in try value.list() {
                    if item.node.isNull {
                        dependencies.append(nil)
                        continue
                    }
                    var dependency = (name: "", alias: "")
                    for (dkey, dvalue) in try item.pairs() {
                        switch dkey {
                        case "name": dependency.name = try dvalue.string() ?? ""
                        case "alias": dependency.alias = try dvalue.string() ?? ""
                        case "version", "repository", "condition": _ = try dvalue.string()
                        case "tags": _ = try dvalue.strings()
                        case "enabled": _ = try dvalue.bool()
                        case "import-values": _ = try dvalue.list()
                        default: if strict { throw dvalue.error("unknown field \"\(dkey)\" in \(item.path)") }
                        }
                    }
                    dependencies.append(dependency)
                }
            default:
                if IndexEntry.stringFields.contains(key) {
                    _ = try value.string()
                } else if IndexEntry.stringListFields.contains(key) {
                    _ = try value.strings()
                } else if strict {
                    throw value.error("unknown field \"\(key)\" in \(fields.path)")
                }
            }
        }
    }

    /// Why Helm's chart-metadata validation would reject this entry, or nil when it passes.
    func validationProblem() -> String? {
        if name.isEmpty { return "chart.metadata.name is required" }
        if !ChartName.isValid(name) { return "chart.metadata.name \"\(name)\" is invalid" }
        if version.isEmpty { return "chart.metadata.version is required" }
        if (try? SemanticVersion(parsing: version)) == nil { return "chart.metadata.version \"\(version)\" is invalid" }
        if let type, !["", "application", "library"].contains(type) { return "chart.metadata.type \"\(type)\" is invalid" }
        for maintainer in maintainerNames {
            guard let maintainer else { return "maintainers must not contain empty or null nodes" }
            if maintainer.isEmpty { return "each maintainer requires a name" }
        }
        for dependency in dependencies {
            guard let dependency else { return "dependencies must not contain empty or null nodes" }
            if !dependency.alias.isEmpty && !dependency.alias.utf8.allSatisfy(IndexEntry.isAliasByte) {
                return "dependency \"\(dependency.name)\" has disallowed characters in the alias"
            }
        }
        // Helm ignores "more than one dependency with name or alias" when loading an index.
        return nil
    }

    private static func isAliasByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95
    }
}
