DROP TABLE agent_type_versions;
