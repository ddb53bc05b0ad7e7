DROP TABLE goal_instances;
DROP TABLE hired_agents;
