import ChartSyncCore

extension ChartMetadata {
    /// Decodes a Chart.yaml text. Unknown fields are ignored (Helm reads Chart.yaml leniently);
    /// wrong types, a missing name or version, or a version Helm cannot parse are errors.
    public init(chartYAML bytes: [UInt8], source: String) throws(YAMLError) {
        guard let root = try YAMLDocument.load(bytes, source: source) else {
            throw YAMLError(source: source, line: 1, column: 1, message: "Chart.yaml is empty")
        }
        let fields = IndexFields(root, path: "Chart.yaml", source: source)
        var meta = ChartMetadata(apiVersion: "v1", name: "", version: "")
        for (key, value) in try fields.pairs() {
            switch key {
            case "apiVersion": meta.apiVersion = try value.string() ?? "v1"
            case "name": meta.name = try value.string() ?? ""
            case "version": meta.version = try value.string() ?? ""
            case "appVersion": meta.appVersion = try value.string()
            case "description": meta.description = try value.string()
            case "type": meta.type = try value.string()
            case "kubeVersion": meta.kubeVersion = try value.string()
            case "home": meta.home = try value.string()
            case "icon": meta.icon = try value.string()
            case "deprecated": meta.deprecated = try value.bool()
            case "keywords": meta.keywords = try value.strings()
            case "sources": meta.sources = try value.strings()
            case "annotations": meta.annotations = try value.stringMap()
            case "maintainers":
                meta.maintainers = try value.list().map { (item) throws(YAMLError) -> Maintainer in
                    let m = try item.stringMap()
                    return Maintainer(name: m["name"] ?? "", email: m["email"], url: m["url"])
                }
            case "dependencies":
                meta.dependencies = try value.list().map { (item) throws(YAMLError) -> Dependency in
                    var d = Dependency(name: "")
                    for (dkey, dvalue) in try item.pairs() {
                        switch dkey {
                        case "name": d.name = try dvalue.string() ?? ""
                        case "version": d.version = try dvalue.string()
                        case "repository": d.repository = try dvalue.string()
                        case "condition": d.condition = try dvalue.string()
                        case "alias": d.alias = try dvalue.string()
                        default: break
                        }
                    }
                    return d
                }
            default:
                break
            }
        }
        guard !meta.name.isEmpty else { throw fields.error("Chart.yaml has no name") }
        guard ChartName.isValid(meta.name) else { throw fields.error("Chart.yaml name \"\(meta.name)\" is not a valid chart name") }
        guard !meta.version.isEmpty else { throw fields.error("Chart.yaml has no version") }
        do {
            _ = try SemanticVersion(parsing: meta.version)
        } catch {
            throw fields.error("Chart.yaml version \"\(meta.version)\" is invalid: \(error.reason)")
        }
        self = meta
    }
}
