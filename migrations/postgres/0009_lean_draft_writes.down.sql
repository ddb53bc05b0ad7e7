ALTER TABLE deliverables
    DROP CONSTRAINT deliverables_goal_owner_fkey,
    ADD CONSTRAINT deliverables_hired_agent_id_fkey FOREIGN KEY (hired_agent_id) REFERENCES hired_agents (id),
    ADD CONSTRAINT deliverables_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id),
    ADD CONSTRAINT deliverables_goal_instance_id_fkey FOREIGN KEY (goal_instance_id) REFERENCES goal_instances (id);
ALTER TABLE goal_instances DROP CONSTRAINT goal_instances_owner_key;
