// The peers' tables as the exporter's test and benchmark create them.

// Camunda 7 (engine/src/main/resources/org/camunda/bpm/engine/db/create/activiti.postgres.create.*.sql):
// the columns the export reads, with others it must ignore.
export const CAMUNDA = `
create table ACT_ID_USER (ID_ varchar(64), REV_ integer, FIRST_ varchar(255), LAST_ varchar(255), EMAIL_ varchar(255), PWD_ varchar(255), primary key (ID_));
create table ACT_ID_GROUP (ID_ varchar(64), REV_ integer, NAME_ varchar(255), TYPE_ varchar(255), primary key (ID_));
create table ACT_ID_MEMBERSHIP (USER_ID_ varchar(64), GROUP_ID_ varchar(64), primary key (USER_ID_, GROUP_ID_));
create table ACT_RU_TASK (ID_ varchar(64), REV_ integer, NAME_ varchar(255), OWNER_ varchar(255), ASSIGNEE_ varchar(255), PRIORITY_ integer, CREATE_TIME_ timestamp, PROC_DEF_ID_ varchar(64), TENANT_ID_ varchar(64), primary key (ID_));
create table ACT_RE_PROCDEF (ID_ varchar(64) not null, REV_ integer, CATEGORY_ varchar(255), NAME_ varchar(255), KEY_ varchar(255) not null, VERSION_ integer not null, DEPLOYMENT_ID_ varchar(64), TENANT_ID_ varchar(64), primary key (ID_));
create table ACT_RU_AUTHORIZATION (ID_ varchar(64) not null, REV_ integer not null, TYPE_ integer not null, GROUP_ID_ varchar(255), USER_ID_ varchar(255), RESOURCE_TYPE_ integer not null, RESOURCE_ID_ varchar(255), PERMS_ integer, REMOVAL_TIME_ timestamp, ROOT_PROC_INST_ID_ varchar(64), primary key (ID_));
alter table ACT_RU_AUTHORIZATION add constraint ACT_UNIQ_AUTH_USER unique (TYPE_,USER_ID_,RESOURCE_TYPE_,RESOURCE_ID_);
alter table ACT_RU_AUTHORIZATION add constraint ACT_UNIQ_AUTH_GROUP unique (TYPE_,GROUP_ID_,RESOURCE_TYPE_,RESOURCE_ID_);
create table ACT_RU_IDENTITYLINK (ID_ varchar(64), REV_ integer, GROUP_ID_ varchar(255), TYPE_ varchar(255), USER_ID_ varchar(255), TASK_ID_ varchar(64), PROC_DEF_ID_ varchar(64), TENANT_ID_ varchar(64), primary key (ID_));
create index ACT_IDX_TSKASS_TASK on ACT_RU_IDENTITYLINK(TASK_ID_);
`;
// Camunda's ACT_RU_AUTHORIZATION and ACT_RE_PROCDEF as in activiti.postgres.create.engine.sql
// (with the two unique constraints), ACT_RU_TASK.PROC_DEF_ID_.
// Zitadel (internal/query/projection/user.go, idp_user_link.go, instance_member.go, org_member.go,
// project_member.go, project_grant_member.go, project_grant.go, member.go's memberColumns; internal/query/current_state.go),
// with an older users projection that must not be read.
export const ZITADEL = `
create schema projections;
create table projections.users8 (id text, resource_owner text, instance_id text, creation_date timestamptz, primary key (instance_id, id));
create table projections.users14 (id text, creation_date timestamptz, change_date timestamptz, sequence bigint, state smallint, resource_owner text, instance_id text, username text, type smallint, primary key (instance_id, id));
create table projections.users14_humans (user_id text, instance_id text, first_name text, last_name text, nick_name text, display_name text, email text, primary key (instance_id, user_id));
create table projections.instance_members4 (creation_date timestamptz, change_date timestamptz, user_id text, user_resource_owner text, user_owner_removed boolean default false, roles text[], sequence bigint, resource_owner text, instance_id text, owner_removed boolean default false, id text, primary key (instance_id, id, user_id));
create table projections.org_members4 (creation_date timestamptz, change_date timestamptz, user_id text, user_resource_owner text, user_owner_removed boolean default false, roles text[], sequence bigint, resource_owner text, instance_id text, owner_removed boolean default false, org_id text, primary key (instance_id, org_id, user_id));
create table projections.project_members4 (creation_date timestamptz, change_date timestamptz, user_id text, user_resource_owner text, user_owner_removed boolean default false, roles text[], sequence bigint, resource_owner text, instance_id text, owner_removed boolean default false, project_id text, primary key (instance_id, project_id, user_id));
create table projections.project_grant_members4 (creation_date timestamptz, change_date timestamptz, user_id text, user_resource_owner text, user_owner_removed boolean default false, roles text[], sequence bigint, resource_owner text, instance_id text, owner_removed boolean default false, project_id text, grant_id text, granted_org text, primary key (instance_id, project_id, grant_id, user_id));
create table projections.project_grants4 (grant_id text, creation_date timestamptz, change_date timestamptz, sequence bigint, state smallint, resource_owner text, instance_id text, project_id text, granted_org_id text, role_keys text[], primary key (instance_id, grant_id));
create table projections.idp_user_links3 (idp_id text, user_id text, external_user_id text, creation_date timestamptz, change_date timestamptz, sequence bigint, resource_owner text, instance_id text, display_name text, owner_removed boolean default false, primary key (instance_id, idp_id, external_user_id));
`;
// The projections' state as the release reads it (tools/export/src/zitadel.rs): current_states
// with a position column (internal/query/current_state.go, prepareLatestState: no
// processedSequence), or the older current_sequences (internal/query/current_sequence.go).
export const ZITADEL_STATES = `
create table projections.current_states (projection_name text, instance_id text, last_updated timestamptz, aggregate_id text, aggregate_type text, sequence bigint, event_date timestamptz, position numeric, filter_offset integer, primary key (projection_name, instance_id));
`;
export const ZITADEL_SEQUENCES = `
create table projections.current_sequences (projection_name text, aggregate_type text, current_sequence bigint, instance_id text, timestamp timestamptz, primary key (projection_name, aggregate_type, instance_id));
`;

// Zitadel's event store (cmd/initialise/sql/postgres/08_events_table.sql), which --follow reads
// for the aggregates whose projections' rows changed.
export const ZITADEL_EVENTS = `
create schema if not exists eventstore;
create table eventstore.events2 (instance_id text not null, aggregate_type text not null, aggregate_id text not null, event_type text not null, "sequence" bigint not null, revision smallint not null, created_at timestamptz not null, payload jsonb, creator text not null, "owner" text not null, "position" decimal not null, in_tx_order integer not null, primary key (instance_id, aggregate_type, aggregate_id, "sequence"));
create index es_projection on eventstore.events2 (instance_id, aggregate_type, event_type, "position");
`;
