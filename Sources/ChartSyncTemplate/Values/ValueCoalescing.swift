/// Helm's value coalescing (pkg/chartutil/coalesce.go), for default values only: the higher
/// layer wins key by key, mappings merge recursively, and a null in the higher layer removes the
/// key from the lower one.
public enum ValueCoalescing {
    /// `high` over `low`: keys of `high` win; mappings present in both merge; a null in `high`
    /// deletes the key. When `high` is not a mapping it wins as a whole.
    public static func coalesce(_ high: ValueNode, over low: ValueNode) -> ValueNode {
        guard let lowPairs = low.pairs, var pairs = high.pairs else { return high }
        for pair in lowPairs {
            if let index = pairs.firstIndex(where: { $0.key == pair.key }) {
                if pairs[index].value.isNull {
                    pairs.remove(at: index)
                } else if pairs[index].value.pairs != nil, pair.value.pairs != nil {
                    pairs[index].value = coalesce(pairs[index].value, over: pair.value)
                }
                // Otherwise the higher layer's value stands (Helm warns when a table meets a non-table).
            } else {
                pairs.append(pair)
            }
        }
        var result = high
        result.content = .map(pairs)
        return result
    }

    /// The `global` section a subchart sees: the parent's globals win over the subchart section's
    /// own (coalesceGlobals: tables merge top-down, scalars from the parent replace).
    public static func passGlobals(from parent: ValueNode, into section: ValueNode) -> ValueNode {
        guard let parentGlobal = parent["global"], parentGlobal.pairs != nil else { return section }
        var result = section
        if let own = section["global"], own.pairs != nil {
            result.set("global", coalesce(parentGlobal, over: own))
        } else {
            result.set("global", parentGlobal)
        }
        return result
    }
}
