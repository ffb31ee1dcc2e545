//! Services: which pods a Service selects and which container port each Service port reaches
//! (policies see the container port, never the Service port).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use politica::Protocol;

use super::error::{LoadError, Origin};
use super::workload::{PodModel, check_labels, open_object, port_number, port_protocol};

#[derive(Debug, Clone)]
pub struct ServiceModel {
    pub name: String,
    pub namespace: String,
    /// Empty: the Service selects no pod (its endpoints would be managed by hand).
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
    pub service: Service,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub target_port: TargetPort,
    pub protocol: Protocol,
}

/// `targetPort`: a number, or the name of a container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    Number(u16),
    Name(String),
}

impl ServiceModel {
    /// True when this Service sends traffic to `pod`.
    pub fn selects(&self, pod: &PodModel) -> bool {
        pod.namespace == self.namespace
            && !self.selector.is_empty()
            && self
                .selector
                .iter()
                .all(|(k, v)| pod.labels.get(k) == Some(v))
    }

    /// The pods behind this Service, in the order given.
    pub fn backends<'a>(&self, pods: &'a [PodModel]) -> Vec<&'a PodModel> {
        pods.iter().filter(|p| self.selects(p)).collect()
    }

    /// The Service port numbered `port`, if any.
    pub fn port(&self, port: u16) -> Option<&ServicePort> {
        self.ports.iter().find(|p| p.port == port)
    }

    /// The container port on `pod` that Service port `port` reaches; `None` when a named
    /// `targetPort` names no port of that pod (Kubernetes then has no endpoint for it).
    pub fn target_port_on(&self, port: &ServicePort, pod: &PodModel) -> Option<u16> {
        match &port.target_port {
            TargetPort::Number(n) => Some(*n),
            TargetPort::Name(name) => pod
                .containers
                .iter()
                .flat_map(|c| c.ports.iter())
                .find(|p| p.name.as_deref() == Some(name.as_str()) && p.protocol == port.protocol)
                .map(|p| p.port),
        }
    }
}

pub(crate) fn service_model(
    service: &Service,
    origin: &Origin,
    errors: &mut Vec<LoadError>,
) -> Option<ServiceModel> {
    let meta = &service.metadata;
    let before = errors.len();
    let (namespace, name, mut err) = open_object("Service", meta, origin, errors);
    let spec = service.spec.clone().unwrap_or_default();
    let selector = spec.selector.clone().unwrap_or_default();
    check_labels(Some(&selector), "spec.selector", &mut err);
    let mut ports = Vec::new();
    for (i, p) in spec.ports.iter().flatten().enumerate() {
        let field = format!("spec.ports[{i}]");
        let Some(port) = port_number(p.port, &format!("{field}.port"), &mut err) else {
            continue;
        };
        let Some(protocol) = port_protocol(
            p.protocol.as_deref(),
            &format!("{field}.protocol"),
            &mut err,
        ) else {
            continue;
        };
        let target_port = match &p.target_port {
            None => TargetPort::Number(port),
            Some(IntOrString::Int(n)) => {
                match port_number(*n, &format!("{field}.targetPort"), &mut err) {
                    Some(n) => TargetPort::Number(n),
                    None => continue,
                }
            }
            Some(IntOrString::String(s)) => match s.parse::<u16>() {
                Ok(n) if n > 0 => TargetPort::Number(n),
                _ if !s.is_empty() => TargetPort::Name(s.clone()),
                _ => {
                    err(&format!("{field}.targetPort"), "empty".into());
                    continue;
                }
            },
        };
        ports.push(ServicePort {
            name: p.name.clone(),
            port,
            target_port,
            protocol,
        });
    }
    // The reporter borrows `errors`; it is done once the checks are.
    drop(err);
    if errors.len() > before {
        return None;
    }
    Some(ServiceModel {
        name,
        namespace,
        selector,
        ports,
        service: service.clone(),
        origin: origin.clone(),
    })
}
