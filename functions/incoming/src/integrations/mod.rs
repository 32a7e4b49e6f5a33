//! The registry: every integration, one line each.

use crate::integration::Integration;

pub mod alertmanager;
pub mod basecamp;
pub mod beanstalk;
pub mod bitbucket2;
pub mod bitbucket3;
pub mod clubhouse;
pub mod front;
pub mod gitea;
pub mod github;
pub mod githubsponsors;
pub mod gitlab;
pub mod gogs;
pub mod grafana;
pub mod intercom;
pub mod jira;
pub mod json;
pub mod linear;
pub mod newrelic;
pub mod opsgenie;
pub mod pagerduty;
pub mod pivotal;
pub mod sentry;
pub mod slack;
pub mod slack_incoming;
pub mod stripe;
pub mod taiga;
pub mod trello;
pub mod wekan;

/// Every integration Hookline ships.
pub static INTEGRATIONS: &[&dyn Integration] = &[
    &json::Json,
    &slack_incoming::SlackIncoming,
    &github::Github,
    &githubsponsors::GithubSponsors,
    &gitlab::Gitlab,
    &grafana::Grafana,
    &alertmanager::Alertmanager,
    &front::Front,
    &newrelic::Newrelic,
    &linear::Linear,
    &opsgenie::Opsgenie,
    &beanstalk::Beanstalk,
    &gogs::Gogs,
    &gitea::Gitea,
    &taiga::Taiga,
    &bitbucket2::Bitbucket2,
    &clubhouse::Clubhouse,
    &basecamp::Basecamp,
    &bitbucket3::Bitbucket3,
    &intercom::Intercom,
    &wekan::Wekan,
    &pagerduty::Pagerduty,
    &trello::Trello,
    &pivotal::Pivotal,
    &slack::Slack,
    &stripe::Stripe,
    &sentry::Sentry,
    &jira::Jira,
];

/// The integration served at `/api/v1/external/<name>`.
#[must_use]
pub fn find(name: &str) -> Option<&'static dyn Integration> {
    INTEGRATIONS.iter().copied().find(|i| i.name() == name)
}
