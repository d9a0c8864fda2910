// Reads a GraphML or GEXF file with the Gephi toolkit 0.10.1 the way Gephi's import does, and
// prints what Gephi holds as JSON: nodes (id, label), edges (source, type, target, weight,
// attributes by column title) and the import report's issues.
// Usage: java GephiRead FILE [default|no-merge]
// `type` is the edge kind for GEXF; for GraphML (no kinds) the `type` attribute column.
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.gephi.graph.api.Column;
import org.gephi.graph.api.DirectedGraph;
import org.gephi.graph.api.Edge;
import org.gephi.graph.api.GraphController;
import org.gephi.graph.api.GraphModel;
import org.gephi.graph.api.Node;
import org.gephi.io.importer.api.Container;
import org.gephi.io.importer.api.EdgeMergeStrategy;
import org.gephi.io.importer.api.ImportController;
import org.gephi.io.importer.api.Issue;
import org.gephi.io.processor.plugin.DefaultProcessor;
import org.gephi.project.api.ProjectController;
import org.gephi.project.api.Workspace;
import org.openide.util.Lookup;

public class GephiRead {
    public static void main(String[] args) throws Exception {
        File file = new File(args[0]);
        boolean noMerge = args.length > 1 && args[1].equals("no-merge");
        ProjectController pc = Lookup.getDefault().lookup(ProjectController.class);
        pc.newProject();
        Workspace workspace = pc.getCurrentWorkspace();
        ImportController importer = Lookup.getDefault().lookup(ImportController.class);
        Container container = importer.importFile(file);
        if (noMerge) {
            container.getLoader().setEdgesMergeStrategy(EdgeMergeStrategy.NO_MERGE);
        }
        List<String> issues = new ArrayList<>();
        for (Issue issue : iterable(container.getReport().getIssues(1000))) {
            issues.add(issue.getLevel() + ": " + issue.getMessage());
        }
        importer.process(container, new DefaultProcessor(), workspace);
        GraphModel model = Lookup.getDefault().lookup(GraphController.class).getGraphModel(workspace);
        DirectedGraph graph = model.getDirectedGraph();
        boolean gexf = file.getName().endsWith(".gexf");
        Column typeColumn = null;
        for (Column c : model.getEdgeTable()) {
            if (!c.isProperty() && c.getTitle().equals("type")) typeColumn = c;
        }
        StringBuilder out = new StringBuilder("{\"nodes\": [");
        String sep = "";
        for (Node n : graph.getNodes()) {
            out.append(sep).append("[").append(Json.str(n.getId().toString())).append(", ")
               .append(Json.str(n.getLabel())).append("]");
            sep = ", ";
        }
        out.append("], \"edges\": [");
        sep = "";
        for (Edge e : graph.getEdges()) {
            String type = gexf ? String.valueOf(model.getEdgeTypeLabel(e.getType()))
                               : String.valueOf(typeColumn == null ? null : e.getAttribute(typeColumn));
            out.append(sep).append("{\"source\": ").append(Json.str(e.getSource().getId().toString()))
               .append(", \"type\": ").append(Json.str(type))
               .append(", \"target\": ").append(Json.str(e.getTarget().getId().toString()))
               .append(", \"weight\": ").append(e.getWeight())
               .append(", \"attributes\": {");
            String asep = "";
            for (Column c : model.getEdgeTable()) {
                if (c.isProperty()) continue;
                Object v = e.getAttribute(c);
                if (v == null) continue;
                out.append(asep).append(Json.str(c.getTitle())).append(": ").append(Json.str(v.toString()));
                asep = ", ";
            }
            out.append("}}");
            sep = ", ";
        }
        out.append("], \"node_columns\": {");
        sep = "";
        for (Column c : model.getNodeTable()) {
            if (c.isProperty()) continue;
            out.append(sep).append(Json.str(c.getTitle())).append(": ").append(Json.str(c.getTypeClass().getSimpleName()));
            sep = ", ";
        }
        out.append("}, \"issues\": [");
        sep = "";
        for (String i : issues) {
            out.append(sep).append(Json.str(i));
            sep = ", ";
        }
        out.append("]}");
        System.out.println(out);
        System.exit(0);   // the toolkit leaves non-daemon threads behind
    }

    static <T> Iterable<T> iterable(java.util.Iterator<T> it) {
        return () -> it;
    }
}
