# A plan of the whole configuration with the example inputs, against a mocked AWS provider
# (no account, no network): evaluates every expression, variable validation, precondition
# and template. Run by check.py when a local provider directory is available.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_ssm_parameter" {
    defaults = { insecure_value = "ami-0123456789abcdef0" }
  }
  mock_data "aws_ami" {
    defaults = { root_device_name = "/dev/xvda" }
  }
  mock_data "aws_elb_service_account" {
    defaults = { arn = "arn:aws:iam::156460612806:root" }
  }
  mock_data "aws_secretsmanager_random_password" {
    defaults = { random_password = "MockedRandomPasswordOfSixtyFourLettersAndDigits0123456789abcdef" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

run "plan_with_example_inputs" {
  command = plan

  assert {
    condition     = length(aws_subnet.app) == 3 && length(aws_subnet.data) == 3 && length(aws_nat_gateway.main) == 3
    error_message = "three zones, each with its subnets and NAT gateway"
  }

  assert {
    condition     = aws_lb_target_group.app.health_check[0].path == "/readyz" && aws_lb_target_group.app.deregistration_delay == "30"
    error_message = "the target group checks /readyz and drains for drain_secs"
  }

  assert {
    condition     = length(aws_db_instance.replica) == 1 && aws_db_instance.primary.multi_az
    error_message = "a Multi-AZ primary and a replica"
  }
}
