//! The generator of `template.yaml`'s incoming functions: one function per integration in the
//! registry, each running the one `incoming` binary configured with its integration, on its
//! integration's two routes; and the catalogue's function. The test fails when the template
//! differs from what the registry gives; `HOOKLINE_WRITE_TEMPLATE=1` rewrites the block.

use std::fmt::Write as _;
use std::path::Path;

use hookline_edge::routes::{INCOMING, INTEGRATIONS as CATALOG, ROUTES};
use hookline_incoming::integration::serves_method;
use hookline_incoming::integrations::INTEGRATIONS;
use hookline_incoming::lambda::INTEGRATION_VAR;

const BEGIN: &str = "  # BEGIN incoming integrations";
const END: &str = "  # END incoming integrations";

/// `slack_incoming` → `SlackIncoming`.
fn camel(name: &str) -> String {
    name.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

fn function(
    out: &mut String,
    resource: &str,
    description: &str,
    integration: Option<&str>,
    routes: &[(&str, &str, String)],
) {
    let _ = write!(
        out,
        "  {resource}:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {binary}
    Properties:
      CodeUri: .
      Description: {description}
",
        binary = INCOMING.binary
    );
    if let Some(name) = integration {
        let _ = write!(out, "      Environment:\n        Variables:\n          {INTEGRATION_VAR}: {name}\n");
    }
    out.push_str(
        "      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref Table
        - SQSSendMessagePolicy:
            QueueName: !GetAtt DeliveryQueue.QueueName
      Events:
",
    );
    for (event, method, path) in routes {
        let _ = write!(
            out,
            "        {event}:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: {path}
            Method: {method}
"
        );
    }
    out.push('\n');
}

/// The block between the markers, from the registry and the route table.
fn generated() -> String {
    let mut out = format!(
        "{BEGIN} (generated from the registry in functions/incoming/src/integrations/mod.rs:\n  \
         # `HOOKLINE_WRITE_TEMPLATE=1 cargo test -p hookline-incoming --test handler template` rewrites it)\n"
    );
    let catalog: Vec<(&str, &str, String)> =
        ROUTES.iter().filter(|r| r.function == CATALOG).map(|r| ("List", r.method, r.path.to_owned())).collect();
    function(&mut out, CATALOG.resource, "The incoming integrations' catalogue.", None, &catalog);
    for integration in INTEGRATIONS {
        let name = integration.name();
        let routes: Vec<(&str, &str, String)> = ROUTES
            .iter()
            .filter(|r| r.function == INCOMING && serves_method(*integration, r.method))
            .map(|r| {
                let event = match (r.method, r.path.ends_with("/test")) {
                    ("HEAD", _) => "Check",
                    (_, true) => "Preview",
                    _ => "Receive",
                };
                (event, r.method, r.path.replace("{integration}", name))
            })
            .collect();
        let resource = INCOMING.resource.replace("{Integration}", &camel(name));
        let description = format!("Incoming webhook integration {name} ({}).", integration.display_name());
        function(&mut out, &resource, &description, Some(name), &routes);
    }
    out.push_str(END);
    out
}

#[test]
fn template_yaml_holds_the_generated_incoming_functions() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let template = std::fs::read_to_string(&path).unwrap();
    let begin = template.find(BEGIN).expect("template.yaml has the BEGIN marker");
    let end = template.find(END).expect("template.yaml has the END marker") + END.len();
    let (current, wanted) = (&template[begin..end], generated());
    if std::env::var_os("HOOKLINE_WRITE_TEMPLATE").is_some() {
        std::fs::write(&path, format!("{}{wanted}{}", &template[..begin], &template[end..])).unwrap();
        return;
    }
    assert!(
        current == wanted,
        "template.yaml's incoming functions differ from the registry: run \
         `HOOKLINE_WRITE_TEMPLATE=1 cargo test -p hookline-incoming --test handler template`"
    );
}
